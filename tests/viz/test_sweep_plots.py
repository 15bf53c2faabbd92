"""Sweep plots: Spearman correlations of known orderings, and the files a sweep leaves."""

import numpy as np

from disentax.viz.sweep import hyperparameter_columns, plot_sweep, rank_correlation


def rows():
    rng = np.random.default_rng(0)
    out = []
    for seed in range(4):
        for beta in (1.0, 4.0):
            x = float(rng.normal())
            out.append(
                {
                    "member": len(out),
                    "objective": "beta_vae",
                    "seed": seed,
                    "beta": beta,
                    "alive": True,
                    "eval/a": x,
                    "eval/b": x**3,  # same order as a
                    "eval/c": -x,  # reversed order
                    "eval/d": 1.0,  # constant
                }
            )
    return out


def test_rank_correlation_of_monotone_and_constant_metrics():
    rho = rank_correlation(rows(), ["eval/a", "eval/b", "eval/c", "eval/d"])
    np.testing.assert_allclose(rho[:3, :3], [[1, 1, -1], [1, 1, -1], [-1, -1, 1]], atol=1e-12)
    assert np.isnan(rho[3, 0])


def test_plot_sweep_writes_one_plot_per_metric_and_the_correlations(tmp_path):
    assert hyperparameter_columns(rows()) == ["beta"]
    paths = plot_sweep(rows(), tmp_path)
    assert sorted(p.name for p in paths) == [
        "a.png",
        "b.png",
        "c.png",
        "d.png",
        "rank_correlation.png",
    ]
    assert all(p.stat().st_size > 1000 for p in paths)
