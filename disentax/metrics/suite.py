"""Metrics by name: one call scores a representation with any subset of the metric suite.

Three kinds of metric take three kinds of input; `score` feeds each what it needs:
- sample metrics take `codes [N, L]` and `factors [N, K]` (MIG, modularity, IRS, InfoMEC) or the
  codes alone (the unsupervised scores);
- split metrics also take a held-out `test_codes [M, L]`, `test_factors [M, K]` (SAP, DCI with
  gradient-boosted trees or a random forest, modularity + explicitness);
- interventional metrics draw their own samples from a ground-truth dataset through a
  representation function `images [B, H, W, C] -> codes [B, L]` (BetaVAE and FactorVAE scores,
  fairness, downstream accuracy).
Every metric runs with its reference estimator settings (disentanglement_lib's; the JAX
estimators, `mode="jax"`). The sample and split metrics score the codes they are given; a run
draws `eval.num_samples` (10,000, disentanglement_lib's size) and `eval.num_test_samples` (5,000)
of them. The interventional metrics draw their own samples, sized from the same two numbers
N = `num_samples` and M = `num_test_samples` (`SuiteMetric.sizes`), so that the defaults
N = 10,000, M = 5,000 are disentanglement_lib's sizes exactly and a small evaluation (the tiny
config's N = 256, M = 128) is small for every metric alike:
- BetaVAE score: N training and M evaluation points (10,000 / 5,000), 64 image pairs per point;
- FactorVAE score: N samples for the variances, N training and M evaluation votes (10,000,
  10,000 / 5,000), 64 images per vote;
- fairness: N training samples (10,000) and ⌈M / 50⌉ test points per class (100);
- downstream: training sizes disentanglement_lib's 10, 100, 1,000, 10,000 below N, then N
  itself ((10, 100, 1,000, 10,000)); M test samples (5,000).
The batch sizes (64) are the metrics' definitions, not sample sizes, and stay. Call the
functions in `disentax.metrics` directly for other settings.
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


REFERENCE_NUM_SAMPLES, REFERENCE_NUM_TEST_SAMPLES = 10_000, 5_000  # disentanglement_lib's
DOWNSTREAM_SIZES = (10, 100, 1_000, 10_000)  # disentanglement_lib's downstream training sizes


@dataclasses.dataclass(frozen=True)
class SuiteMetric:
    """`fn` and the `kind` of input it takes; `binned` metrics also take `num_bins`;
    interventional ones the keyword sizes `sizes(num_samples, num_test_samples)` (see above)."""

    fn: Callable
    kind: str
    binned: bool = False
    sizes: Callable[[int, int], dict] | None = None


def _beta_vae_sizes(n: int, m: int) -> dict:
    return {"num_train": n, "num_eval": m}


def _factor_vae_sizes(n: int, m: int) -> dict:
    return {"num_train": n, "num_eval": m, "num_variance_estimate": n}


def _fairness_sizes(n: int, m: int) -> dict:
    return {"num_train": n, "num_test_points_per_class": -(-m // 50)}


def _downstream_sizes(n: int, m: int) -> dict:
    return {"num_train": tuple(s for s in DOWNSTREAM_SIZES if s < n) + (n,), "num_test": m}


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
SUITE.register(
    "beta_vae_score", SuiteMetric(metrics.beta_vae_score, INTERVENTIONAL, sizes=_beta_vae_sizes)
)
SUITE.register(
    "factor_vae_score",
    SuiteMetric(metrics.factor_vae_score, INTERVENTIONAL, sizes=_factor_vae_sizes),
)
SUITE.register("fairness", SuiteMetric(metrics.fairness, INTERVENTIONAL, sizes=_fairness_sizes))
SUITE.register(
    "downstream", SuiteMetric(metrics.downstream, INTERVENTIONAL, sizes=_downstream_sizes)
)


def interventional_sizes(
    name: str,
    num_samples: int = REFERENCE_NUM_SAMPLES,
    num_test_samples: int = REFERENCE_NUM_TEST_SAMPLES,
) -> dict:
    """The keyword sizes the suite passes to interventional metric `name` for an evaluation of
    `num_samples` / `num_test_samples` (see the module docstring); {} for other metrics."""
    metric = SUITE.get(name)
    if metric.sizes is None:
        return {}
    for field, value in (("num_samples", num_samples), ("num_test_samples", num_test_samples)):
        if not isinstance(value, int) or value < 2:
            raise UserError(f"{field} must be an int >= 2 for {name}, got {value!r}")
    return metric.sizes(num_samples, num_test_samples)


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
    num_samples: int = REFERENCE_NUM_SAMPLES,
    num_test_samples: int = REFERENCE_NUM_TEST_SAMPLES,
) -> dict[str, dict]:
    """`{metric: its full result}` for the metrics in `names` (inputs as `score`): the scalars
    and the matrices, e.g. InfoMEC's "nmi" `[K, L]` and DCI's "importance" `[L, K]`, so that a
    caller drawing them fits each metric once. An interventional metric draws its samples from
    `fold_in(rng, number of scalar results before it)`, at `interventional_sizes(name,
    num_samples, num_test_samples)` (default: disentanglement_lib's sizes)."""
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
            sizes = interventional_sizes(name, num_samples, num_test_samples)
            out = metric.fn(
                dataset, representation_fn, jax.random.fold_in(rng, num_scalars), **sizes
            )
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
    num_samples: int = REFERENCE_NUM_SAMPLES,
    num_test_samples: int = REFERENCE_NUM_TEST_SAMPLES,
) -> list[dict[str, float]]:
    """`score` for M models at once: `codes [M, N, L]` (and `test_codes [M, N', L]`) of the
    models on the same samples (`factors [N, K]`); each sample, codes and split metric is one
    `jax.vmap`-ed call over the models; interventional metrics take one representation function
    per model in `representation_fns` and run per model, every model on the same key (as
    disentanglement_lib evaluates every model with one seed) at `interventional_sizes`, so row m
    equals `score` of model m alone. Returns one dict of scalar results per model."""
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
            sizes = interventional_sizes(name, num_samples, num_test_samples)
            per_model = [metric.fn(dataset, fn, key, **sizes) for fn in representation_fns]
            out = {k: np.stack([np.asarray(o[k]) for o in per_model]) for k in per_model[0]}
        for key, values in out.items():
            if np.ndim(values) != 1:  # a matrix per model (InfoMEC's nmi), not a score
                continue
            for m, value in enumerate(np.asarray(values).reshape(num_models)):
                results[m][flat_name(name, key)] = float(value)
    return results
