"""Downstream classification accuracy of each factor from the codes (disentanglement_lib's
`downstream_task`), at several training-set sizes."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.metrics import inputs, progress
from disentax.metrics.estimators import encoding, gbt, logistic
from disentax.metrics.factor_vae_score import encode_factors

ESTIMATORS = ("logistic_regression", "gbt")


def downstream_accuracies(
    codes,
    factors,
    test_codes,
    test_factors,
    *,
    estimator: str = "logistic_regression",
    mode: str = "jax",
    seed: int = 0,
    num_classes=None,
):
    """Per-factor accuracy: `codes [N, L], factors [N, K], test_codes, test_factors -> {"train",
    "test"}` each `[K]`, of one classifier per factor fit on the training split.

    `estimator="logistic_regression"`: `LogisticRegressionCV(Cs=10, cv=KFold(5))`
    (`logistic.fit_logistic_regression_cv`); `"gbt"`: `GradientBoostingClassifier()`
    (`gbt.fit_gbt`); `mode="reference"` calls those sklearn estimators. A single-valued
    factor is predicted exactly. `seed + k` seeds factor k's trees. Vmappable over a leading
    population axis in JAX mode.
    """
    inputs.check_choice("estimator", estimator, ESTIMATORS)
    inputs.check_choice("mode", mode, ("jax", "reference"))
    codes, factors, test_codes, test_factors = inputs.split_inputs(
        "downstream", codes, factors, test_codes, test_factors
    )
    counts = inputs.class_counts("downstream", factors, num_classes)
    fit = _reference_fit if mode == "reference" else _jax_fit
    train, test = zip(
        *[
            fit(
                estimator,
                codes,
                factors[:, k],
                test_codes,
                test_factors[:, k],
                c,
                seed + k,
            )
            for k, c in enumerate(counts)
        ],
        strict=True,
    )
    return {"train": jnp.stack(train), "test": jnp.stack(test)}


def _jax_fit(estimator, x, y, x_test, y_test, num_classes, seed):
    y, y_test = encoding.encode_labels(y, y_test, num_classes)
    if num_classes == 1:
        return jnp.float32(1.0), jnp.mean(y_test == 0)
    if estimator == "gbt":
        model, _ = gbt.fit_gbt(x, y, jax.random.PRNGKey(seed), num_classes)
        predict = gbt.gbt_predict
    else:
        model = _fit_lr_cv(x, y, num_classes)
        predict = encoding.linear_predict
    return jnp.mean(predict(model, x) == y), jnp.mean(predict(model, x_test) == y_test)


_fit_lr_cv = jax.jit(logistic.fit_logistic_regression_cv, static_argnums=2)


def _reference_fit(estimator, x, y, x_test, y_test, num_classes, seed):
    inputs.require_sklearn("downstream")
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import KFold

    x, y, x_test, y_test = (np.asarray(a) for a in (x, y, x_test, y_test))
    if num_classes == 1:
        return jnp.float32(1.0), jnp.float32(np.mean(y_test == y[0]))
    if estimator == "gbt":
        model = GradientBoostingClassifier(random_state=seed)
    else:
        model = LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), scoring="accuracy")
    with warnings.catch_warnings():  # sklearn 1.9's notices of 1.10 defaults: same L2 fit
        warnings.simplefilter("ignore", FutureWarning)
        model.fit(x, y)
    return (
        jnp.float32(np.mean(model.predict(x) == y)),
        jnp.float32(np.mean(model.predict(x_test) == y_test)),
    )


def downstream(
    dataset,
    representation_fn,
    rng,
    *,
    num_train=(10, 100, 1000, 10000),
    num_test: int = 5000,
    estimator: str = "logistic_regression",
    mode: str = "jax",
):
    """disentanglement_lib's downstream task: `-> dict` of accuracies per training size.

    For each size n in `num_train`: n training and `num_test` test samples (images from
    `dataset.sample_factors` / `observations_from_factors`, codes from `representation_fn`,
    fresh keys from `rng`), `downstream_accuracies` per factor k, and keys "n:mean_train_accuracy",
    "n:mean_test_accuracy", "n:min_train_accuracy", "n:min_test_accuracy",
    "n:train_accuracy_factor_k", "n:test_accuracy_factor_k" as disentanglement_lib. A progress
    bar counts the images encoded (`progress.images_bar`): Σ_n (n + `num_test`).
    """
    inputs.interventional_inputs("downstream", dataset, representation_fn, rng)
    sizes = (num_train,) if isinstance(num_train, int) else tuple(num_train)
    if not sizes or not all(isinstance(n, int) and n >= 2 for n in (*sizes, num_test)):
        raise UserError(
            f"num_train (ints) and num_test must be at least 2, got {num_train!r}, {num_test!r}"
        )
    scores = {}
    for size, key in zip(sizes, jax.random.split(rng, len(sizes)), strict=True):
        train_key, test_key, fit_key = jax.random.split(key, 3)
        with progress.images_bar(f"downstream {size}", size + num_test):
            codes, factors = representations(dataset, representation_fn, train_key, size)
            test_codes, test_factors = jax.block_until_ready(
                representations(dataset, representation_fn, test_key, num_test)
            )
        accuracy = downstream_accuracies(
            codes,
            factors,
            test_codes,
            test_factors,
            estimator=estimator,
            mode=mode,
            seed=int(jax.random.randint(fit_key, (), 0, 2**31 - 1)),
        )
        for split in ("train", "test"):
            values = accuracy[split]
            scores[f"{size}:mean_{split}_accuracy"] = jnp.mean(values)
            scores[f"{size}:min_{split}_accuracy"] = jnp.min(values)
            for k, value in enumerate(values):
                scores[f"{size}:{split}_accuracy_factor_{k}"] = value
    return scores


def representations(dataset, representation_fn, rng, n: int, chunk: int = 1024):
    """`n` i.i.d. (codes `[n, L]`, factors `[n, K]`): factors by `dataset.sample_factors`, codes
    by `representation_fn` on their images, in chunks of `chunk` images."""
    factor_key, obs_key = jax.random.split(rng)
    factors = dataset.sample_factors(factor_key, n)
    codes = [
        encode_factors(
            dataset, representation_fn, factors[i : i + chunk], jax.random.fold_in(obs_key, i)
        )
        for i in range(0, n, chunk)
    ]
    return jnp.concatenate(codes), factors
