"""P03's claims (`claims.py`) on the committed results (`results/`): the `cpu` population
(`small_be_more_active.json`, 30 models) and the `paper` networks stopped at 20,000 steps
(`h200_conv_20k_be_more_active.json`), over all models and per model type; the claims that do
not reproduce are strict expected failures with the measured numbers."""

import json

import numpy as np
import pytest

from disentax.analysis import runs
from disentax.errors import UserError
from experiments.p03_be_more_active import claims, config

STORED = {setting: claims.load(path) for setting, path in claims.COMMITTED.items()}


def _cases():
    for setting, rows in STORED.items():
        expected = claims.expected_failures(setting)
        for group in claims.groups(rows):
            for c in claims.CLAIMS:
                xfail = pytest.mark.xfail(strict=True, reason=expected[c]) if c in expected else ()
                yield pytest.param(setting, group, c, marks=xfail, id=f"{setting}-{group}-{c}")


@pytest.mark.parametrize("setting, group, claim", list(_cases()))
def test_claim_on_the_committed_results(setting, group, claim):
    assert claims.CLAIMS[claim](claims.groups(STORED[setting])[group]) is None


def test_the_committed_results_are_both_model_types_over_the_beta_grid():
    for setting, seeds in (("cpu", 3), ("h200_conv_20k", 1)):
        rows = STORED[setting]
        assert list(claims.groups(rows)) == ["all", *config.MODELS]
        assert sorted((r["objective"], r["beta"], r["seed"]) for r in rows) == sorted(
            (m, b, s) for m in config.MODELS for b in config.BETAS for s in range(seeds)
        )
        assert all(r["alive"] for r in rows)


def test_check_reports_no_difference_from_the_expected_failures():
    for setting, rows in STORED.items():
        assert claims.check(rows, setting) == [], setting


def test_check_reports_a_claim_that_changes_outcome():
    rows = [dict(r) for r in STORED["cpu"]]
    for r in rows:  # truncation now keeps every model's accuracy
        r["downstream/mean_truncated"] = r["downstream/mean"]
    assert claims.check(rows, "cpu") == [
        f"{group}/truncation_keeps_downstream_accuracy: holds, expected to fail"
        for group in ("all", "beta_vae", "beta_tc_vae")
    ]
    rows[0]["tc/sampled"] = rows[0]["tc/mean"] + 1.0  # one model's sampled codes now more
    assert claims.check(rows, "cpu")[0].startswith(
        "all/mean_more_correlated_than_sampled: mean codes less correlated than sampled in "
        "beta_vae beta=1 seed=0: TC 2.286 vs 3.286, MI 0.114 vs 0.044"
    )


def test_the_committed_summary_is_the_rows_summarised():
    summary = json.loads((claims.RESULTS / "small_summary.json").read_text())
    rows = STORED["cpu"]
    for group, numbers in runs.summarise_by(rows).items():
        np.testing.assert_allclose(
            [numbers[k] for k in sorted(numbers)],
            [summary["claims"][group][k] for k in sorted(numbers)],
            rtol=1e-6,
        )
    assert len(summary["downstream"]) == len(runs.downstream_changes(rows)) == 10


def test_too_few_living_models_or_an_unknown_setting_is_a_one_line_error(tmp_path):
    rows = [dict(r, alive=i < 2) for i, r in enumerate(STORED["cpu"])]
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    with pytest.raises(UserError, match="at least 3 living models, got 2"):
        claims.load(tmp_path / "rows.json")
    with pytest.raises(UserError, match="unknown setting 'small'; known: cpu, h200_conv_20k"):
        claims.expected_failures("small")


def test_the_command_prints_each_claim_and_exits_zero_as_expected(capsys):
    assert claims.main([str(claims.COMMITTED["cpu"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 * 4 + 1
    assert "all/mean_more_correlated_than_sampled: holds" in lines
    assert lines[-1] == "setting 'cpu': 0 outcome(s) differ from expected"
    assert claims.main([str(claims.COMMITTED["cpu"]), "--setting", "h200_conv_20k"]) == 1
