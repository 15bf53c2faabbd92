"""The claim test's population trained 20 times longer, run by hand:
`pytest experiments/p03_be_more_active/test_longer_training.py` (the suite leaves it out,
`conftest.py`'s `collect_ignore`: 7 tiny FC VAEs for 20,000 steps, measured 834 s of CPU and
22 min of wall time on 2 cores shared at load average 8). The same members, optimiser, analysis
and thresholds as `test_p03_be_more_active.py`; at this length truncation closes the TC gap
(claim 2), while the gap does not grow with the passive count and truncation still costs
downstream accuracy (strict expected failures with the measured numbers, NOTES.md "Longer
training").
"""

import pytest

from disentax.analysis import runs
from disentax.train.sweep import run_sweep
from experiments.p03_be_more_active import config

STEPS = 20_000
MEMBERS = [("beta_vae", b) for b in (1, 2, 4, 8, 16)] + [("beta_tc_vae", b) for b in (4, 16)]


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    configs = []
    for model, beta in MEMBERS:
        c = config.get_config(f"model={model},beta={beta},cpu")
        c.model, c.optimizer.learning_rate = "tiny_fc_vae", 2e-3
        c.num_steps = STEPS
        c.checkpoint_every_steps = c.log_every_steps = 1000
        c.batch_size = 32
        c.eval.metrics = "unsupervised"
        c.eval.num_samples = c.eval.batch_size = 256
        configs.append(c)
    workdir = tmp_path_factory.mktemp("be_more_active_longer")
    run_sweep(configs, workdir, strategy="vmap", progress=False)
    rows = runs.analyse_workdir(workdir, num_samples=1000, num_test=500, cross_validate=False)
    assert len(rows) == len(MEMBERS) and all(r["alive"] for r in rows)
    return runs.summarise(rows)


@pytest.mark.xfail(
    strict=True,
    reason="not shown at 20,000 steps (measured: Spearman rho = 0.20, p = 0.67; between -0.43 "
    "and 0.20 from 3,000 to 30,000 steps): the beta-TCVAE beta = 16 with no passive variable "
    "(9 mixed) has a gap of 4.6 nats, as large as the two 9-passive beta-VAEs' 4.5-5.3, and the "
    "models with 4-8 passive variables have 2.4-3.3; NOTES.md 'Longer training'",
)
def test_gap_grows_with_the_number_of_passive_variables(summary):
    assert summary["spearman"] >= 0.6, summary


def test_truncation_closes_the_gap(summary):
    assert summary["num_truncated"] >= 3, summary
    assert summary["tc_gap_median"] > 1.0, summary
    assert abs(summary["tc_gap_truncated_median"]) < 0.1 * summary["tc_gap_median"], summary


@pytest.mark.xfail(
    strict=True,
    reason="not shown at 20,000 steps (measured: beta-VAE beta = 1 and 2 lose 0.037 and 0.039 "
    "of mean test accuracy when their 6 passive variables are removed; -0.043 at 30,000 "
    "steps): the passive variables' means (Var_x[mu] 0.0004-0.002) still carry factor "
    "information, above chance alone (0.167 against 0.108); NOTES.md 'Longer training'",
)
def test_truncation_keeps_downstream_accuracy(summary):
    assert summary["downstream_change_min"] >= -0.02, summary
