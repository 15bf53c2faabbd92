"""P49's claims (`claims.py`) on the committed `results/cpu.json` (3 seeds of every run); the
claims that do not reproduce are strict expected failures with the measured numbers."""

import copy

import pytest

from disentax.errors import UserError
from experiments.p49_qaoa_autoencoder import claims, config, main
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
    for name, run in results["runs"].items():  # the QAOA-QCAEs now 50 % above everything else
        if name.startswith("qaoa"):
            for row in run["per_seed"]:
                row["eval/test_ssim"] = 1.5 * max(
                    r["eval/test_ssim"] for other in STORED["runs"].values() for r in
                    other["per_seed"]
                )  # fmt: skip
    now = claims.outcomes(results)
    assert now["qcae_above_cae"] is None and now["qaoa_25_percent_above_other_designs"] is None
    results = copy.deepcopy(STORED)
    for row in results["runs"]["qaoa_p2_n6_s0.4"]["per_seed"]:  # now far below the CAE
        row["eval/test_ssim"] = 0.0
    assert "; qaoa_p2_n6_s0.4: -0.739 ± 0.022; " in claims.qcae_above_cae(results)
    with pytest.raises(UserError, match="unknown setting 'gpu'; known: cpu, smoke"):
        claims.expected_failures("gpu")


def test_the_command_prints_the_table_and_exits_zero_as_expected(capsys):
    assert claims.main([str(claims.COMMITTED["cpu"])]) == 0
    out = capsys.readouterr().out
    assert "| classical | 6 | 0.4 | – | 3319 |" in out and "| qaoa_p4_n6_s0.4 |" in out
    assert out.splitlines()[-1] == "setting 'cpu': 0 outcome(s) differ from expected"
