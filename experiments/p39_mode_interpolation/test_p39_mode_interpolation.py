"""P39's mechanism: the mixtures' statistics, the hallucination criterion and placement on
hand-made points, the trajectory-variance score on a synthetic trajectory, the ROC AUC and the
operating point, the recursive-training filters and bookkeeping, one-line config errors."""

import math
import types

import jax
import numpy as np
import pytest

from disentax.errors import UserError
from disentax.train.population import Population
from disentax.train.task import task_module
from experiments.p39_mode_interpolation import config, hallucination, main


@pytest.mark.parametrize("kind", hallucination.KINDS)
def test_the_mixture_has_its_modes_spread_and_the_papers_scale(kind):
    rng = np.random.default_rng(0)
    x = hallucination.sample_mixture(kind, 0.05, 50_000, rng)
    mu, sigma = hallucination.modes(kind), hallucination.noise_std(kind, 0.05)
    index, _ = hallucination.nearest_mode(x, mu)
    counts = np.bincount(index, minlength=len(mu))
    expected = len(x) / len(mu)
    assert np.all(np.abs(counts - expected) < 5 * math.sqrt(expected))
    residual = x - mu[index]
    np.testing.assert_allclose(residual.std(0), sigma, rtol=0.03)
    np.testing.assert_allclose(residual.mean(0), 0, atol=4 * sigma / math.sqrt(len(x)) * 5)
    # the paper's code divides the 2-D data by √(σ² + 8): the grid has unit variance per axis,
    # the diamond (coordinates i − j, i + j of variance 4) half of it
    want = {"line": 2 / 3 + 0.05**2, "grid": 1.0, "rotated": (4 + 0.05**2) / (8 + 0.05**2)}
    np.testing.assert_allclose(x.var(0), want[kind], rtol=0.03)
    gap = {"line": 1.0, "grid": 2 / math.sqrt(8.0025), "rotated": math.sqrt(2 / 8.0025)}
    assert hallucination.spacing(kind) == pytest.approx(gap[kind])
    pairs = {"line": 2, "grid": 40, "rotated": 40}  # adjacent pairs of a 5×5 lattice: 2·5·4
    assert len(hallucination.segments(mu, hallucination.spacing(kind))) == pairs[kind]


@pytest.mark.parametrize("dim,kind", [(1, "line"), (2, "grid")])
def test_the_datas_own_rate_beyond_k_sigma_is_the_chi_square_tail(dim, kind):
    x = hallucination.sample_mixture(kind, 0.05, 100_000, np.random.default_rng(1))
    sigma = hallucination.noise_std(kind, 0.05)
    rate = hallucination.hallucinated(x, hallucination.modes(kind), sigma, k=2.0).mean()
    p = hallucination.data_rate(dim, 2.0)  # 2Φ(−2) = 0.0455 or e^−2 = 0.135
    assert p == pytest.approx({1: 0.0455, 2: 0.1353}[dim], abs=1e-4)
    assert abs(rate - p) < 4 * math.sqrt(p * (1 - p) / len(x))
    assert hallucination.data_rate(2) == pytest.approx(math.exp(-8))


def test_hallucinations_on_hand_made_points_and_where_they_lie():
    mu, sigma = hallucination.modes("line"), 0.05
    x = np.asarray([[1.0], [1.19], [1.21], [1.5], [2.5], [3.3], [0.0]])
    flags = hallucination.hallucinated(x, mu, sigma)
    assert flags.tolist() == [False, False, True, True, True, True, True]
    where = hallucination.placement(x[flags], mu, 1.0, 4 * sigma)
    assert where == {"adjacent": 0.6, "diagonal": 0.0}  # 1.21, 1.5, 2.5 between neighbours
    grid = hallucination.modes("grid")
    gap, s = hallucination.spacing("grid"), hallucination.noise_std("grid", 0.05)
    a, right, up_right = grid[12], grid[13], grid[18]  # (0, 0), (gap, 0), (gap, gap)
    assert np.allclose(a, 0) and np.allclose(right, [gap, 0]) and np.allclose(up_right, gap)
    points = np.stack([(a + right) / 2, (a + up_right) / 2, a + [0, 3 * s], [9.0, 9.0]])
    assert hallucination.hallucinated(points, grid, s).tolist() == [True, True, False, True]
    where = hallucination.placement(points[[0, 1, 3]], grid, gap, 4 * s)
    assert where["adjacent"] == pytest.approx(1 / 3) and where["diagonal"] == pytest.approx(1 / 3)
    # in the diamond the diagonal neighbours lie along the axes: (0, 0) and (0, 2)/2.83
    rotated = hallucination.modes("rotated")
    axis_pair = rotated[[12, 18]]  # i = j = 0 and i = j = 1: (0, 0), (0, 2)/scale
    assert np.allclose(axis_pair[0], 0) and np.allclose(axis_pair[1, 0], 0)
    mid = axis_pair.mean(0, keepdims=True)
    where = hallucination.placement(mid, rotated, hallucination.spacing("rotated"), 4 * s)
    assert where == {"adjacent": 0.0, "diagonal": 1.0}
    assert math.isnan(hallucination.placement(mid[:0], rotated, 1.0, 0.1)["adjacent"])


def test_the_variance_score_of_a_synthetic_trajectory():
    k, n = 10, 4
    x0_hat = np.zeros((k, n, 2))
    x0_hat[:, 1, 0] = np.where(np.arange(k) % 2, 0.3, -0.3)  # ±a on dim 0: Var a², mean a²/2
    x0_hat[:, 2] = np.linspace(0, 1, k)[:, None]  # a ramp on both dims: Var of linspace
    x0_hat[:, 3] = 5.0  # constant far away: still 0
    score = hallucination.trajectory_variance(x0_hat)
    want = [0.0, 0.09 / 2, np.linspace(0, 1, k).var(), 0.0]
    np.testing.assert_allclose(score, want, atol=1e-12)


def test_roc_auc_against_the_pairwise_count_and_the_operating_point():
    rng = np.random.default_rng(2)
    score = np.round(rng.normal(size=300), 1)  # ties
    positive = rng.random(300) < 0.3
    pos, neg = score[positive], score[~positive]
    brute = np.mean((pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None]))
    assert hallucination.roc_auc(score, positive) == pytest.approx(brute)
    assert hallucination.roc_auc(np.arange(4.0), np.asarray([0, 0, 1, 1], bool)) == 1.0
    assert hallucination.roc_auc(-np.arange(4.0), np.asarray([0, 0, 1, 1], bool)) == 0.0
    assert math.isnan(hallucination.roc_auc(score, np.zeros(300, bool)))
    # in-support scores U(0, 1), hallucinations U(0.9, 1.9): the threshold is the first half's
    # 96 % in-support quantile (≈ 0.96); on the second half ≈ 96 % kept, ≈ 94 % removed
    n = 200_000
    positive = rng.random(n) < 0.2
    score = np.where(positive, 0.9 + rng.random(n), rng.random(n))
    op = hallucination.operating_point(score, positive)
    assert op["threshold"] == pytest.approx(0.96, abs=0.005)
    assert op["retention"] == pytest.approx(0.96, abs=0.005)
    assert op["removal"] == pytest.approx(1 - 0.06, abs=0.01)


def test_the_filters_keep_the_lowest_variance_or_a_random_subset():
    score = np.asarray([0.5, 0.1, 0.9, 0.3, 0.7])
    rng = np.random.default_rng(3)
    assert hallucination.keep(score, 2, "variance", rng).tolist() == [1, 3]
    kept = hallucination.keep(score, 3, "random", rng)
    assert len(set(kept.tolist())) == 3 and kept.max() < 5
    with pytest.raises(UserError, match="unknown filter 'entropy'; known: variance, random"):
        hallucination.keep(score, 2, "entropy", rng)
    with pytest.raises(UserError, match="keep must be in 1..5, got 6"):
        hallucination.keep(score, 6, "variance", rng)


def test_recursive_bookkeeping_samples_filters_and_stores_the_kept(tmp_path):
    mu = hallucination.modes("grid")
    s = hallucination.noise_std("grid", 0.05)
    x = np.concatenate([mu[:6], (mu[:4] + mu[5:9]) / 2])  # 6 on modes, 4 between modes
    x0_hat = np.zeros((10, 10, 2)) + x
    x0_hat[::2, 6:] += 0.05  # the hallucinations' x̂_0 wobble: high variance

    class Stub:
        config = types.SimpleNamespace(seed=0, data=types.SimpleNamespace(kind="grid", std=0.05))

        def sample_with_x0(self, params, key, num):
            assert num == 10
            return x, x0_hat

    out = tmp_path / "kept.npy"
    sizes = {"pool": 10, "keep": 6}
    numbers, pool = main.pool_and_keep(Stub(), None, 0, "variance", sizes, out)
    np.testing.assert_allclose(np.load(out), x[:6], atol=1e-6)  # exactly the in-support ones
    assert numbers["hallucination_rate"] == 0.4 and numbers["kept_hallucination_rate"] == 0.0
    assert numbers["auc"] == 1.0 and numbers["modes_covered"] == 6 and pool.shape == (10, 2)
    numbers, _ = main.pool_and_keep(Stub(), None, 0, "random", sizes, out)
    assert np.load(out).shape == (6, 2) and numbers["hallucination_rate"] == 0.4
    assert hallucination.hallucinated(np.load(out), mu, s).sum() >= 0


def test_the_settings_build_and_the_sweep_lists_every_kind_and_seed():
    sweep = config.get_sweep("cpu")
    assert len(sweep) == 3 * config.NUM_SEEDS["cpu"] and sweep[0] == "kind=line,seed=0,cpu"
    for setting in ("smoke", "cpu", "paper"):
        c = config.get_config(f"kind=rotated,{setting}")
        task = task_module(c).build(c)
        steps = 1000 if setting == "paper" else 100
        assert task.schedule.num_timesteps == steps and task.model.activation == "leaky_relu"
        assert float(task.schedule.betas[-1]) == pytest.approx(0.2)
    paper = config.get_config("paper")
    assert (paper.model.width, paper.model.depth, paper.eval.last_steps) == (128, 3, 10)
    assert config.RECURSION["paper"] == {"generations": 5, "pool": 500_000, "keep": 100_000}
    seeds = [config.get_config(f"kind=grid,seed={s},smoke") for s in (0, 1)]
    assert Population.create(seeds, "loop").size == 2  # every member checked by the task
    line = config.get_config("kind=line,smoke")
    batch = task_module(line).build(line).batch(jax.random.key(0), 0)["x"]
    assert batch.shape == (32, 1)


def test_config_errors_are_one_line(tmp_path):
    cases = {
        "kind=moons": "unknown data kind 'moons'; known: line, grid, rotated",
        "filter=random": "samples, filter and generation",
        f"samples={tmp_path}/x.npy,filter=best,generation=1": "unknown filter 'best'",
        "smoke,cpu": "use one of the settings",
    }
    for arg, message in cases.items():
        with pytest.raises(UserError, match=message) as error:
            config.get_config(arg)
        assert "\n" not in str(error.value)
    c = config.get_config(f"samples={tmp_path}/missing.npy,filter=random,generation=1,smoke")
    with pytest.raises(UserError, match="data.samples: cannot read"):
        task_module(c).build(c)
    c = config.get_config("smoke")
    c.model.activation = "swish"
    with pytest.raises(UserError, match="unknown model.activation 'swish'"):
        task_module(c).build(c)
