"""P34's claims (`claims.py`) on the committed `results/cpu.json` (the 81 architectures' ground
truth, 5 seeds of each search method); the claims that do not reproduce are strict expected
failures with the measured numbers."""

import copy

import pytest

from disentax.errors import UserError
from experiments.p34_tanglenas import claims, config
from experiments.testing import committed_claim_tests

(
    STORED,
    test_claim_on_the_committed_cpu_results,
    test_check_reports_no_difference_from_the_expected_failures,
) = committed_claim_tests(claims)


def test_the_committed_results_are_the_cpu_sweep_with_its_provenance():
    assert STORED["setting"] == "cpu" and STORED["memory"]["num_architectures"] == 81
    gt = STORED["runs"]["fixed"]["members"]
    assert sorted(m["arch"] for m in gt) == sorted(list(range(81)) * len(config.GT_SEEDS["cpu"]))
    assert {m["seed"] for m in gt} == set(config.GT_SEEDS["cpu"])
    assert STORED["runs"]["fixed"]["config"]["num_steps"] == config.STEPS["cpu"]["fixed"]
    for method in ("darts", "drnas", "spos"):
        run = STORED["runs"][method]
        assert [m["seed"] for m in run["members"]] == list(range(config.NUM_SEEDS["cpu"]))
        assert run["config"]["num_steps"] == config.STEPS["cpu"][method]
    assert config.NUM_SEEDS["cpu"] >= claims.MIN_SEEDS
    assert STORED["rs_samples"] == config.RS_SAMPLES["cpu"]
    assert STORED["versions"]["jax"] and STORED["commit"]
    assert STORED["summary"] == claims.summarise(STORED)
    assert STORED["claims"] == claims.outcomes(STORED)


def test_check_reports_a_claim_that_changes_outcome():
    results = copy.deepcopy(STORED)
    results["memory"]["supernet_weights"] += 1
    assert claims.check(results, "cpu")[-1] == (
        "supernet_memory_is_one_network: supernet 56939 weights vs largest architecture 56938"
    )
    with pytest.raises(UserError, match="unknown setting 'gpu'; known: cpu, smoke"):
        claims.expected_failures("gpu")


def test_the_command_prints_the_table_and_exits_zero_as_expected(capsys):
    assert claims.main([str(claims.COMMITTED["cpu"])]) == 0
    out = capsys.readouterr().out
    assert "| SPOS + RS |" in out and "supernet_memory_is_one_network: holds" in out
