"""P57's claims (`claims.py`) on the committed `results/cpu.json` (3 seeds of every run); the
claims that do not reproduce are strict expected failures with the measured numbers."""

import copy

import pytest

from disentax.errors import UserError
from experiments.p57_quantum_adversarial import claims, config, main
from experiments.testing import committed_claim_tests

(
    STORED,
    test_claim_on_the_committed_cpu_results,
    test_check_reports_no_difference_from_the_expected_failures,
) = committed_claim_tests(claims)


def test_the_committed_results_are_the_cpu_sweep_with_its_provenance():
    seeds = list(range(config.NUM_SEEDS["cpu"]))
    want = {main.run_name(config.get_config(f"{run},cpu")) for run in config.run_arguments("cpu")}
    assert set(STORED["runs"]) == want
    for name, run in STORED["runs"].items():
        assert run["seeds"] == seeds
        want_steps = config.get_config(("data=ising," if name.startswith("ising") else "") + "cpu")
        assert run["config"]["num_steps"] == want_steps.num_steps
    assert STORED["versions"]["jax"] and STORED["commit"]
    assert STORED["claims"] == claims.outcomes(STORED)


def test_check_reports_a_claim_that_changes_outcome():
    results = copy.deepcopy(STORED)
    for row in results["runs"]["digits_1v9"]["per_seed"]:  # the attack now does nothing
        for a in claims.ATTACKS:
            row[claims.attacked(a, config.CLAIM_EPSILON["digits"])] = row["eval/test_accuracy"]
    outcome = claims.small_attacks_drop_accuracy(results)
    assert outcome.startswith("accuracy drop at ε = 0.1 < 0.3 at digits_1v9 fgsm: 0.000")
    with pytest.raises(UserError, match="unknown setting 'gpu'; known: cpu, smoke"):
        claims.expected_failures("gpu")


def test_the_command_prints_the_table_and_exits_zero_as_expected(capsys):
    assert claims.main([str(claims.COMMITTED["cpu"]), "--curves"]) == 0
    out = capsys.readouterr().out
    assert "| digits_1v9 |" in out and "| ising_adv |" in out and "| pgd |" in out
    assert out.splitlines()[-1] == "setting 'cpu': 0 outcome(s) differ from expected"
