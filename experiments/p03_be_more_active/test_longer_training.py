"""The claim test's population trained 20 times longer, run by hand:
`pytest experiments/p03_be_more_active/test_longer_training.py` (the suite leaves it out,
`conftest.py`'s `collect_ignore`: 7 tiny FC VAEs for 20,000 steps, measured 834 s of CPU and
22 min of wall time on 2 cores shared at load average 8). The same members, optimiser, analysis
and claims (`claims.py`) as `test_p03_be_more_active.py`; at this length truncation closes the
TC gap (claim 2), while the gap does not grow with the passive count and truncation still costs
downstream accuracy (strict expected failures with the measured numbers, NOTES.md "Longer
training").
"""

import pytest

from disentax.analysis import runs
from disentax.train.sweep import run_sweep
from experiments.p03_be_more_active import claims, config

STEPS = 20_000
MEMBERS = [("beta_vae", b) for b in (1, 2, 4, 8, 16)] + [("beta_tc_vae", b) for b in (4, 16)]


@pytest.fixture(scope="module")
def population_rows(tmp_path_factory):
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
    return rows


# The claims measured at this length (NOTES.md "Longer training", which did not record mean vs
# sampled): claim 2 holds, claims 1 and 3 are strict expected failures with the measured numbers
# (`claims.EXPECTED_FAILURES["tiny_20k"]`).
MEASURED = (
    "gap_grows_with_passive_variables",
    "truncation_closes_the_gap",
    "truncation_keeps_downstream_accuracy",
)
EXPECTED = claims.expected_failures("tiny_20k")


@pytest.mark.parametrize(
    "claim",
    [
        pytest.param(
            c, marks=pytest.mark.xfail(strict=True, reason=EXPECTED[c]) if c in EXPECTED else ()
        )
        for c in MEASURED
    ],
)
def test_claim_on_the_longer_trained_population(population_rows, claim):
    assert claims.CLAIMS[claim](population_rows) is None
