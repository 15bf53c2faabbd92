"""P55's claims (`claims.py`) on the committed `results/cpu.json` (5 seeds of each problem); the
claims that do not reproduce are strict expected failures with the measured numbers."""

import copy

import pytest

from disentax.errors import UserError
from experiments.p55_maestro import claims, config
from experiments.testing import committed_claim_tests

(
    STORED,
    test_claim_on_the_committed_cpu_results,
    test_check_reports_no_difference_from_the_expected_failures,
) = committed_claim_tests(claims)


def test_the_committed_results_are_the_cpu_sweep_with_its_provenance():
    seeds = list(range(config.NUM_SEEDS["cpu"]))
    assert sorted(STORED["runs"]) == ["autoencoder", "classifier", "classifier_dense", "regression"]
    for run in STORED["runs"].values():
        assert run["seeds"] == seeds
        assert (
            run["config"]["num_steps"]
            == config.get_config(f"problem={run['config']['problem']},cpu").num_steps
        )
    assert STORED["versions"]["jax"] and STORED["commit"]
    assert STORED["claims"] == claims.outcomes(STORED)


def test_check_reports_a_claim_that_changes_outcome():
    results = copy.deepcopy(STORED)
    for row in results["runs"]["classifier"]["per_seed"]:  # Maestro now wins at every rank
        for key in row:
            if key.startswith("eval/acc_"):
                row[key] = 1.0
    assert claims.check(results, "cpu") == [
        "mlp_fraction_at_least_svd: holds, expected to fail",
        "mlp_uniform_rank_at_least_svd: holds, expected to fail",
    ]
    results["runs"]["regression"]["per_seed"][2]["eval/sin_u/k003"] = 0.5
    assert claims.check(results, "cpu")[0] == (
        "svd_subspaces_in_order: sin_u > 0.1 (worst seed) at k003: 0.5"
    )
    with pytest.raises(UserError, match="unknown setting 'gpu'; known: cpu, smoke"):
        claims.expected_failures("gpu")


def test_the_command_prints_the_table_and_exits_zero_as_expected(capsys):
    assert claims.main([str(claims.COMMITTED["cpu"])]) == 0
    out = capsys.readouterr().out
    assert "| regression | 1 |" in out and "| 0.125 | 0.616 ± 0.030 |" in out
    assert out.splitlines()[-1] == "setting 'cpu': 0 outcome(s) differ from expected"
