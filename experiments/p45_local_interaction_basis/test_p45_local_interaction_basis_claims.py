"""P45/P27's claims (`claims.py`) on the committed `results/cpu.json` (3 seeds of each run); the
claims that do not reproduce are strict expected failures with the measured numbers."""

import copy

import pytest

from disentax.errors import UserError
from experiments.p45_local_interaction_basis import claims, config
from experiments.testing import committed_claim_tests

(
    STORED,
    test_claim_on_the_committed_cpu_results,
    test_check_reports_no_difference_from_the_expected_failures,
) = committed_claim_tests(claims)


def test_the_committed_results_are_the_cpu_sweep_with_its_provenance():
    seeds = list(range(config.NUM_SEEDS["cpu"]))
    h = config.LLC_WIDTH["cpu"]
    assert sorted(STORED["runs"]) == ["lib", f"llc_h{h}", f"llc_h{2 * h}", "modadd", "twotask"]
    for run in STORED["runs"].values():
        assert run["seeds"] == seeds
        problem = run["config"]["problem"]
        width = run["config"]["model"]["widths"][0]
        assert (
            run["config"]["num_steps"]
            == config.get_config(f"problem={problem},width={width},cpu").num_steps
        )
    assert STORED["versions"]["jax"] and STORED["commit"]
    assert STORED["claims"] == claims.outcomes(STORED)


def test_check_reports_a_claim_that_changes_outcome():
    results = copy.deepcopy(STORED)
    h = config.LLC_WIDTH["cpu"]
    for row in results["runs"][f"llc_h{h}"]["per_seed"]:  # the planted networks now score high
        row["eval/llc/duplicated"] = row["eval/llc/dead"] = 1e3
    assert claims.check(results, "cpu")[-1].startswith(
        "llc_lower_with_planted_degeneracy: λ̂ not lower with planted degeneracy: duplicated"
    )
    with pytest.raises(UserError, match="unknown setting 'gpu'; known: cpu, smoke"):
        claims.expected_failures("gpu")


def test_the_command_prints_the_table_and_exits_zero_as_expected(capsys):
    assert claims.main([str(claims.COMMITTED["cpu"])]) == 0
    out = capsys.readouterr().out
    assert "| l1 |" in out and "duplicated → width" in out
    assert out.splitlines()[-1] == "setting 'cpu': 0 outcome(s) differ from expected"
