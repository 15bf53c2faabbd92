"""P39's claims (`claims.py`) on the committed `results/cpu.json` (3 seeds of every run); the
claims that do not reproduce are strict expected failures with the measured numbers."""

import copy

import pytest

from disentax.errors import UserError
from experiments.p39_mode_interpolation import claims, config, main
from experiments.testing import committed_claim_tests

(
    STORED,
    test_claim_on_the_committed_cpu_results,
    test_check_reports_no_difference_from_the_expected_failures,
) = committed_claim_tests(claims)


def test_the_committed_results_are_the_cpu_sweep_with_its_provenance():
    seeds = list(range(config.NUM_SEEDS["cpu"]))
    generations = config.RECURSION["cpu"]["generations"]
    want = set(config.hallucination.KINDS) | {
        f"{how}_gen{g}" for how in ("variance", "random") for g in range(1, generations + 1)
    }
    assert set(STORED["runs"]) == want
    for name, run in STORED["runs"].items():
        assert run["seeds"] == seeds
        first = name in config.hallucination.KINDS
        steps = config.get_config("cpu").num_steps if first else config.RECURSIVE_STEPS["cpu"]
        assert run["config"]["num_steps"] == steps
    for how in ("variance", "random"):
        assert STORED["recursion"][how]["seeds"] == seeds
    assert main.run_name(config.get_config("kind=line,cpu")) == "line"
    assert STORED["versions"]["jax"] and STORED["commit"]
    assert STORED["claims"] == claims.outcomes(STORED)


def test_check_reports_a_claim_that_changes_outcome():
    results = copy.deepcopy(STORED)
    for row in results["runs"]["grid"]["per_seed"]:  # no hallucinations at all on the grid
        row["eval/hallucination_rate"] = 0.0
    failure = claims.hallucinations_far_above_data(results)
    assert failure.startswith("grid: rate 0.0000")
    with pytest.raises(UserError, match="unknown setting 'gpu'; known: cpu, smoke"):
        claims.expected_failures("gpu")


def test_the_command_prints_the_tables_and_exits_zero_as_expected(capsys):
    assert claims.main([str(claims.COMMITTED["cpu"])]) == 0
    out = capsys.readouterr().out
    assert "| grid |" in out and "| random: hallucination rate |" in out
    assert out.splitlines()[-1] == "setting 'cpu': 0 outcome(s) differ from expected"
