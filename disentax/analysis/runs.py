"""The "Be More Active!" analysis of a finished population or sweep directory, member by member."""

import functools
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from disentax import data
from disentax.analysis.intervals import t_interval
from disentax.analysis.mean_vs_sampled import mean_vs_sampled, truncate
from disentax.errors import UserError
from disentax.metrics import inputs
from disentax.metrics.downstream import downstream_accuracies
from disentax.metrics.estimators import encoding, logistic
from disentax.train.sweep import MEMBERS_FILE, restore_population

RESULTS_FILE = "be_more_active.json"


def population_dirs(workdir: str | pathlib.Path) -> list[pathlib.Path]:
    """The population directories of a `train_population` (the workdir) or `run_sweep` (its
    `group_<g>` subdirectories) run."""
    workdir = pathlib.Path(workdir)
    if (workdir / MEMBERS_FILE).exists():
        return [workdir]
    groups = sorted(
        (p for p in workdir.glob("group_*") if (p / MEMBERS_FILE).exists()),
        key=lambda p: int(p.name.split("_")[1]),
    )
    if not groups:
        raise UserError(
            f"{workdir} holds no finished population ({MEMBERS_FILE} in it or in group_*/); "
            "train one with `disentax sweep` or train.sweep.run_sweep"
        )
    return groups


def analyse_population(
    directory: str | pathlib.Path,
    *,
    num_samples: int = 10_000,
    num_test: int = 5_000,
    seed: int = 0,
    num_bins: int = 20,
    estimator: str = "logistic_regression",
    cross_validate: bool = True,
) -> list[dict]:
    """One row per member of the population in `directory`: its description (objective,
    hyperparameters, seed), `mean_vs_sampled` of its encoder on `num_samples` i.i.d. images
    (one vmapped call over the members), and the downstream test accuracy (mean over factors) of
    a classifier per factor (`downstream_accuracies`, `estimator`) trained on the mean codes of
    those images and tested on `num_test` others, for the full ("downstream/mean") and the
    truncated ("downstream/mean_truncated": passive variables removed) mean representation;
    "variance_mean" lists E_x[σ_j²] per variable (what places a variable near a type threshold).
    `cross_validate=False` replaces the paper's logistic regression with 10 C's × 5 folds by one
    fit at C = 1 (`logistic.fit_logistic_regression`), ~50× cheaper (the tests use it)."""
    population, pop = restore_population(directory)
    run = population.run
    train_key, test_key, noise_key = jax.random.split(jax.random.PRNGKey(seed), 3)
    encode = _encoder(run.model)
    mu, logvar, factors = _encode(run, encode, pop.members.params, train_key, num_samples)
    test_mu, _, test_factors = _encode(run, encode, pop.members.params, test_key, num_test)
    compare = jax.jit(jax.vmap(functools.partial(mean_vs_sampled, num_bins=num_bins)))
    scores = jax.device_get(compare(mu, logvar, jax.random.split(noise_key, population.size)))
    passive_masks = scores.pop("passive")
    variance_mean = np.asarray(jnp.mean(jnp.exp(logvar), axis=1))  # [M, L]
    rows = population.describe()
    for m, row in enumerate(rows):
        row["alive"] = bool(pop.alive[m])
        row.update({k: v[m].item() for k, v in scores.items()})  # counts stay ints
        row["passive_variables"] = np.flatnonzero(passive_masks[m]).tolist()
        row["variance_mean"] = np.round(variance_mean[m], 3).tolist()
        keep = ~jnp.asarray(passive_masks[m])
        for name, k in (("mean", jnp.ones_like(keep)), ("mean_truncated", keep)):
            if name == "mean_truncated" and bool(jnp.all(keep)):  # nothing removed: the same
                row[f"downstream/{name}"] = row["downstream/mean"]
                continue
            codes, test_codes = truncate(mu[m], k), truncate(test_mu[m], k)
            if cross_validate:
                accuracy = downstream_accuracies(
                    codes, factors, test_codes, test_factors, estimator=estimator
                )["test"]
            else:
                accuracy = _fixed_c_accuracies(codes, factors, test_codes, test_factors)
            row[f"downstream/{name}"] = float(jnp.mean(accuracy))
    return rows


def analyse_workdir(workdir: str | pathlib.Path, **options) -> list[dict]:
    """`analyse_population` of every population of `workdir` (a population or a sweep), rows
    in member order with their "group"; also written to `workdir/be_more_active.json`."""
    workdir = pathlib.Path(workdir)
    rows = []
    for g, directory in enumerate(population_dirs(workdir)):
        rows += [{"group": g, **row} for row in analyse_population(directory, **options)]
    (workdir / RESULTS_FILE).write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def summarise(rows: list[dict]) -> dict:
    """The paper's three claims over the rows of living members, as numbers:
    - "spearman": Spearman's rank correlation of num_passive and tc_gap (the gap grows with the
      number of passive variables), with its two-sided "spearman_pvalue";
    - "tc_gap_median" and "tc_gap_truncated_median" over the members with passive variables
      and at least 2 variables left after truncation (truncation closes the gap);
    - "downstream_change_min": the smallest downstream/mean_truncated − downstream/mean (no
      drop when ≥ about 0).
    """
    alive = [r for r in rows if r["alive"]]
    if len(alive) < 3:
        raise UserError(f"summarise needs at least 3 living members, got {len(alive)}")
    rho, pvalue = stats.spearmanr([r["num_passive"] for r in alive], [r["tc_gap"] for r in alive])
    truncated = [r for r in alive if r["num_passive"] > 0 and np.isfinite(r["tc_gap_truncated"])]
    change = [r["downstream/mean_truncated"] - r["downstream/mean"] for r in alive]
    return {
        "spearman": float(rho),
        "spearman_pvalue": float(pvalue),
        "num_truncated": len(truncated),
        "tc_gap_median": float(np.median([r["tc_gap"] for r in truncated] or [np.nan])),
        "tc_gap_truncated_median": float(
            np.median([r["tc_gap_truncated"] for r in truncated] or [np.nan])
        ),
        "downstream_change_min": float(np.min(change)),
    }


def summarise_by(rows: list[dict], key: str = "objective") -> dict[str, dict]:
    """`summarise` of all rows ("all") and of the rows of each value of `key` (e.g. per
    objective: the paper states its claims for every model type, so each must hold alone)."""
    groups = {"all": rows}
    for row in rows:
        groups.setdefault(str(row[key]), []).append(row)
    return {name: summarise(group) for name, group in groups.items()}


def downstream_changes(
    rows: list[dict], *, keys=("objective", "beta"), confidence: float = 0.95
) -> list[dict]:
    """Truncation's downstream change over seeds, per setting (the living rows sharing `keys`):
    d = downstream/mean_truncated − downstream/mean per seed, reported as "change" and
    "half_width" = `t_interval(d, confidence)` (NaN half-width with one seed), with "num_seeds"
    and the mean "num_passive"; settings in first-appearance order."""
    groups = {}
    for row in rows:
        if row["alive"]:
            groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    out = []
    for setting, group in groups.items():
        d = [r["downstream/mean_truncated"] - r["downstream/mean"] for r in group]
        mean, half = t_interval(d, confidence=confidence) if len(d) > 1 else (d[0], np.nan)
        out.append(
            {
                **dict(zip(keys, setting, strict=True)),
                "num_seeds": len(d),
                "num_passive": float(np.mean([r["num_passive"] for r in group])),
                "change": float(mean),
                "half_width": float(half),
            }
        )
    return out


def _fixed_c_accuracies(codes, factors, test_codes, test_factors):
    """Test accuracy `[K]` of `logistic.fit_logistic_regression` (C = 1) per factor."""
    accuracies = []
    for k, c in enumerate(inputs.class_counts("downstream", factors, None)):
        y, y_test = encoding.encode_labels(factors[:, k], test_factors[:, k], c)
        if c == 1:
            accuracies.append(jnp.mean(y_test == 0))
            continue
        params = _fit_logistic_regression(codes, y, c)
        accuracies.append(jnp.mean(encoding.linear_predict(params, test_codes) == y_test))
    return jnp.stack(accuracies)


_fit_logistic_regression = jax.jit(logistic.fit_logistic_regression, static_argnums=2)


def _encoder(model):
    """(stacked params `[M, ...]`, images `[B, H, W, C]`) -> (mu, logvar), each `[M, B, L]`."""
    one = lambda params, x: model.apply({"params": params}, x, method=model.encode)
    return jax.jit(jax.vmap(one, in_axes=(0, None)))


def _encode(run, encode, params, key, n):
    """Every member's (mu, logvar) `[M, n, L]` of the same `n` i.i.d. images, and their factors."""
    size = run.config.eval.batch_size
    mus, logvars, factors = [], [], []
    for i in range(-(-n // size)):
        x, f = data.sample(run.dataset, jax.random.fold_in(key, i), size)
        mu, logvar = encode(params, x)
        mus.append(mu)
        logvars.append(logvar)
        factors.append(jnp.asarray(f))
    return (
        jnp.concatenate(mus, axis=1)[:, :n],
        jnp.concatenate(logvars, axis=1)[:, :n],
        jnp.concatenate(factors)[:n],
    )
