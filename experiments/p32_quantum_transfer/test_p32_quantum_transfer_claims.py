"""P32's claims (`claims.py`) on the committed `results/cpu.json` (5 seeds of every run); the
claims that do not reproduce are strict expected failures with the measured numbers."""

import copy

import pytest

from disentax.errors import UserError
from experiments.p32_quantum_transfer import claims, config, main
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
    for run in STORED["runs"].values():
        assert run["seeds"] == seeds
        assert run["config"]["num_steps"] == config.get_config("cpu").num_steps
    assert STORED["versions"]["jax"] and STORED["commit"]
    assert STORED["claims"] == claims.outcomes(STORED)


def test_check_reports_a_claim_that_changes_outcome():
    results = copy.deepcopy(STORED)
    for row in results["runs"]["quantum_x1"]["per_seed"]:  # the hybrid now matches the baseline
        row["eval/test_accuracy"] = 0.99
    differences = claims.check(results, "cpu")
    assert differences[0].startswith(
        "hybrid_below_classical_exact: classical − hybrid test accuracy not clearly ≥ 0.05 at "
        "quantum_x1: -0.0"
    )
    assert differences[1].startswith("hybrid_below_classical_at_every_scale: ")
    with pytest.raises(UserError, match="unknown setting 'gpu'; known: cpu, smoke"):
        claims.expected_failures("gpu")


def test_the_command_prints_the_table_and_exits_zero_as_expected(capsys):
    assert claims.main([str(claims.COMMITTED["cpu"])]) == 0
    out = capsys.readouterr().out
    assert "| latent (16) | – | – |" in out and "| quantum_x1_shots1024 |" in out
    assert out.splitlines()[-1] == "setting 'cpu': 0 outcome(s) differ from expected"
