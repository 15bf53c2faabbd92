"""Metrics by name: one call scores a representation with any subset of the metric suite.

Three kinds of metric take three kinds of input; `score` feeds each what it needs:
- sample metrics take `codes [N, L]` and `factors [N, K]` (MIG, modularity, IRS, InfoMEC) or the
  codes alone (the unsupervised scores);
- split metrics also take a held-out `test_codes [M, L]`, `test_factors [M, K]` (SAP, DCI with
  gradient-boosted trees or a random forest, modularity + explicitness);
- interventional metrics draw their own samples from a ground-truth dataset through a
  representation function `images [B, H, W, C] -> codes [B, L]` (BetaVAE and FactorVAE scores,
  fairness, downstream accuracy).
Every metric runs at its reference defaults (disentanglement_lib's sample sizes and estimator
settings; the JAX estimators, `mode="jax"`); call the functions in `disentax.metrics` directly
for other settings.
"""

import dataclasses
import functools
from collections.abc import Callable

import jax
import numpy as np

from disentax import metrics
from disentax.errors import UserError
from disentax.registry import Registry

SAMPLE, CODES, SPLIT, INTERVENTIONAL = "sample", "codes", "split", "interventional"


@dataclasses.dataclass(frozen=True)
class SuiteMetric:
    """`fn` and the `kind` of input it takes; `binned` metrics also take `num_bins`."""

    fn: Callable
    kind: str
    binned: bool = False


SUITE = Registry("metric")
SUITE.register("mig", SuiteMetric(metrics.mig, SAMPLE, binned=True))
SUITE.register("modularity", SuiteMetric(metrics.modularity, SAMPLE, binned=True))
SUITE.register("irs", SuiteMetric(metrics.irs, SAMPLE, binned=True))
SUITE.register("unsupervised", SuiteMetric(metrics.unsupervised, CODES, binned=True))
SUITE.register("infomec", SuiteMetric(metrics.infomec, SAMPLE))
SUITE.register("sap", SuiteMetric(metrics.sap, SPLIT))
SUITE.register("dci", SuiteMetric(metrics.dci, SPLIT))
SUITE.register(
    "dci_random_forest",
    SuiteMetric(functools.partial(metrics.dci, estimator="random_forest"), SPLIT),
)
SUITE.register(
    "modularity_explicitness", SuiteMetric(metrics.modularity_explicitness, SPLIT, binned=True)
)
SUITE.register("beta_vae_score", SuiteMetric(metrics.beta_vae_score, INTERVENTIONAL))
SUITE.register("factor_vae_score", SuiteMetric(metrics.factor_vae_score, INTERVENTIONAL))
SUITE.register("fairness", SuiteMetric(metrics.fairness, INTERVENTIONAL))
SUITE.register("downstream", SuiteMetric(metrics.downstream, INTERVENTIONAL))


def parse_names(names: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """ "mig, dci" or ["mig", "dci"] -> ("mig", "dci"), each checked against the suite."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    names = tuple(n for n in names if n)
    if not names:
        raise UserError(f"no metric named; choose from: {', '.join(SUITE.names())}")
    for name in names:
        SUITE.get(name)
    return names


def needs(names) -> set[str]:
    """The kinds of input the metrics `names` take."""
    return {SUITE.get(n).kind for n in parse_names(names)}


def flat_name(metric: str, key: str) -> str:
    """A result's name: the metric's own name for its headline value (`mig`), `metric/key`
    for the others (`dci/completeness`)."""
    return key if key == metric else f"{metric}/{key}"


def score(names, **inputs) -> dict[str, float]:
    """`{flat_name(metric, key): value}` for every scalar result of the metrics in `names`, as
    Python floats (matrices such as InfoMEC's `nmi` are left out: `outputs` keeps them).

    Pass the inputs the chosen metrics need (`needs(names)` says which); a missing one is a
    `UserError` naming the metric that wanted it.
    """
    return scalars(outputs(names, **inputs))


def scalars(results: dict[str, dict]) -> dict[str, float]:
    """`outputs`' results flattened: `{flat_name(metric, key): float}` for the scalar ones."""
    return {
        flat_name(name, k): float(np.asarray(v))
        for name, out in results.items()
        for k, v in out.items()
        if np.ndim(v) == 0
    }


def outputs(
    names,
    *,
    codes=None,
    factors=None,
    test_codes=None,
    test_factors=None,
    dataset=None,
    representation_fn: Callable | None = None,
    rng: jax.Array | None = None,
    num_bins: int = 20,
) -> dict[str, dict]:
    """`{metric: its full result}` for the metrics in `names` (inputs as `score`): the scalars
    and the matrices, e.g. InfoMEC's "nmi" `[K, L]` and DCI's "importance" `[L, K]`, so that a
    caller drawing them fits each metric once. An interventional metric draws its samples from
    `fold_in(rng, number of scalar results before it)`."""
    results, num_scalars = {}, 0
    for name in parse_names(names):
        metric = SUITE.get(name)
        kwargs = {"num_bins": num_bins} if metric.binned else {}
        if metric.kind == CODES:
            _require(name, codes=codes)
            out = metric.fn(codes, **kwargs)
        elif metric.kind == SAMPLE:
            _require(name, codes=codes, factors=factors)
            out = metric.fn(codes, factors, **kwargs)
        elif metric.kind == SPLIT:
            _require(
                name,
                codes=codes,
                factors=factors,
                test_codes=test_codes,
                test_factors=test_factors,
            )
            out = metric.fn(codes, factors, test_codes, test_factors, **kwargs)
        else:
            _require(name, dataset=dataset, representation_fn=representation_fn, rng=rng)
            out = metric.fn(dataset, representation_fn, jax.random.fold_in(rng, num_scalars))
        results[name] = out
        num_scalars += sum(np.ndim(v) == 0 for v in out.values())
    return results


def _require(metric: str, **inputs) -> None:
    missing = [k for k, v in inputs.items() if v is None]
    if missing:
        raise UserError(f"metric {metric!r} needs {', '.join(missing)}, which were not given")


def score_population(
    names,
    *,
    codes,
    factors=None,
    test_codes=None,
    test_factors=None,
    dataset=None,
    representation_fns=None,
    rng: jax.Array | None = None,
    num_bins: int = 20,
) -> list[dict[str, float]]:
    """`score` for M models at once: `codes [M, N, L]` (and `test_codes [M, N', L]`) of the
    models on the same samples (`factors [N, K]`); each sample, codes and split metric is one
    `jax.vmap`-ed call over the models; interventional metrics take one representation function
    per model in `representation_fns` and run per model, every model on the same key (as
    disentanglement_lib evaluates every model with one seed), so row m equals `score` of model
    m alone. Returns one dict of scalar results per model."""
    codes = jax.numpy.asarray(codes)
    if codes.ndim != 3:
        raise UserError(f"codes of a population must be [M, N, L], got shape {codes.shape}")
    num_models = codes.shape[0]
    results = [{} for _ in range(num_models)]
    for name in parse_names(names):
        metric = SUITE.get(name)
        kwargs = {"num_bins": num_bins} if metric.binned else {}
        if metric.kind == CODES:
            out = jax.vmap(lambda c, f=metric.fn, kw=kwargs: f(c, **kw))(codes)
        elif metric.kind == SAMPLE:
            _require(name, factors=factors)
            out = jax.vmap(lambda c, f=metric.fn, kw=kwargs: f(c, factors, **kw))(codes)
        elif metric.kind == SPLIT:
            _require(name, factors=factors, test_codes=test_codes, test_factors=test_factors)
            out = jax.vmap(
                lambda c, t, f=metric.fn, kw=kwargs: f(c, factors, t, test_factors, **kw)
            )(codes, jax.numpy.asarray(test_codes))
        else:
            _require(name, dataset=dataset, representation_fns=representation_fns, rng=rng)
            key = jax.random.fold_in(rng, len(results[0]))  # as `outputs` keys the metric
            per_model = [metric.fn(dataset, fn, key) for fn in representation_fns]
            out = {k: np.stack([np.asarray(o[k]) for o in per_model]) for k in per_model[0]}
        for key, values in out.items():
            if np.ndim(values) != 1:  # a matrix per model (InfoMEC's nmi), not a score
                continue
            for m, value in enumerate(np.asarray(values).reshape(num_models)):
                results[m][flat_name(name, key)] = float(value)
    return results
