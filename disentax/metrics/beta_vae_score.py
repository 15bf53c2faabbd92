"""BetaVAE score (Higgins et al. 2017): which factor was held fixed, read from code differences."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.metrics import estimators

_CHUNK = 32  # points per representation call (64 · 32 · 2 images at the default batch size)


def beta_vae_features(dataset, representation_fn, rng, num_points: int, batch_size: int):
    """`num_points` (features `[P, L]`, labels `[P]`) as disentanglement_lib's BetaVAE sampler.

    Per point: a factor k uniform over the K factors; two batches of `batch_size` factor vectors
    drawn i.i.d. by `dataset.sample_factors`, with factor k of the second copied from the first;
    feature = (1/B) Σ_b |r(x¹_b) − r(x²_b)|, label = k, r = `representation_fn` on
    `dataset.observations_from_factors` images. Points are drawn `_CHUNK` at a time (key i of
    `split(rng, ⌈P/_CHUNK⌉)` for chunk i): procedural datasets sample, render and encode all
    chunks in one jitted `lax.map`; stored datasets render each chunk on the host between
    jitted sampling and encoding.
    """
    from disentax.data import is_procedural

    keys = jax.random.split(rng, -(-num_points // _CHUNK))
    if is_procedural(dataset):
        features, labels = _all_chunks(dataset, representation_fn, batch_size, keys)
    else:
        encode = jax.jit(representation_fn)
        chunks = []
        for key in keys:
            index, first, second, obs_keys = _chunk_factors(dataset, batch_size, key)
            r1, r2 = (
                encode(jnp.asarray(dataset.observations_from_factors(np.asarray(f), obs_key)))
                for f, obs_key in zip((first, second), obs_keys, strict=True)
            )
            chunks.append((_mean_difference(r1, r2), index))
        features, labels = (jnp.stack(parts) for parts in zip(*chunks, strict=True))
    return features.reshape(-1, features.shape[-1])[:num_points], labels.reshape(-1)[:num_points]


@functools.partial(jax.jit, static_argnums=(0, 1))
def _chunk_factors(dataset, batch_size, key):
    """One chunk's labels `[_CHUNK]`, factor vectors of both copies `[_CHUNK·B, K]` each, and
    their two rendering keys."""
    k = len(dataset.factor_sizes)
    index_key, first_key, second_key, obs_key, obs_key2 = jax.random.split(key, 5)
    index = jax.random.randint(index_key, (_CHUNK,), 0, k)
    first = dataset.sample_factors(first_key, _CHUNK * batch_size).reshape(_CHUNK, batch_size, k)
    second = dataset.sample_factors(second_key, _CHUNK * batch_size).reshape(_CHUNK, batch_size, k)
    fixed = (jnp.arange(k) == index[:, None])[:, None, :]
    second = jnp.where(fixed, first, second)
    return index, first.reshape(-1, k), second.reshape(-1, k), (obs_key, obs_key2)


@jax.jit
def _mean_difference(r1, r2):
    """(1/B) Σ_b |r1 − r2| per point: `[_CHUNK·B, L]` twice `-> [_CHUNK, L]`."""
    return jnp.mean(jnp.abs(r1 - r2).reshape(_CHUNK, -1, r1.shape[-1]), axis=1)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _all_chunks(dataset, representation_fn, batch_size, keys):
    def chunk(key):
        index, first, second, (obs_key, obs_key2) = _chunk_factors(dataset, batch_size, key)
        r1 = representation_fn(dataset.observations_from_factors(first, obs_key))
        r2 = representation_fn(dataset.observations_from_factors(second, obs_key2))
        return _mean_difference(r1, r2), index

    return jax.lax.map(chunk, keys)


def beta_vae_score(
    dataset,
    representation_fn,
    rng,
    *,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    mode: str = "jax",
):
    """BetaVAE score: `-> {"train_accuracy", "eval_accuracy"}` (disentanglement_lib's sizes).

    `beta_vae_features` draws `num_train` training and `num_eval` evaluation points (separate
    keys from `rng`); a `LogisticRegression()` (C = 1, L2, multinomial over the K factors;
    `estimators.fit_logistic_regression` in `mode="jax"`, sklearn in `mode="reference"`) is fit on
    the training features, and each accuracy is the fraction of points whose fixed factor it
    predicts. `representation_fn(images [B, H, W, C]) -> codes [B, L]` must be jittable for
    procedural datasets.
    """
    estimators.check_choice("mode", mode, ("jax", "reference"))
    for name, value in [
        ("batch_size", batch_size),
        ("num_train", num_train),
        ("num_eval", num_eval),
    ]:
        if not isinstance(value, int) or value < 1:
            raise UserError(f"{name} must be a positive int, got {value!r}")
    num_factors = len(dataset.factor_sizes)
    if num_factors < 2:
        raise UserError(f"beta_vae_score needs at least 2 factors, got {num_factors}")
    train_key, eval_key = jax.random.split(rng)
    x, y = beta_vae_features(dataset, representation_fn, train_key, num_train, batch_size)
    x_eval, y_eval = beta_vae_features(dataset, representation_fn, eval_key, num_eval, batch_size)
    if not bool(jnp.all(jnp.isfinite(x))) or not bool(jnp.all(jnp.isfinite(x_eval))):
        raise UserError("beta_vae_score: representation_fn returned NaN or Inf codes")
    if mode == "reference":
        return _reference(x, y, x_eval, y_eval)
    return _jax_accuracies(x, y, x_eval, y_eval, num_factors)


@functools.partial(jax.jit, static_argnums=4)
def _jax_accuracies(x, y, x_eval, y_eval, num_factors):
    params = estimators.fit_logistic_regression(x, y, num_factors)
    return {
        "train_accuracy": jnp.mean(estimators.linear_predict(params, x) == y),
        "eval_accuracy": jnp.mean(estimators.linear_predict(params, x_eval) == y_eval),
    }


def _reference(x, y, x_eval, y_eval):
    estimators.require_sklearn("beta_vae_score")
    from sklearn.linear_model import LogisticRegression

    x, y, x_eval, y_eval = (np.asarray(a, np.float64) for a in (x, y, x_eval, y_eval))
    model = LogisticRegression(random_state=0).fit(x, y)
    return {
        "train_accuracy": jnp.float32(np.mean(model.predict(x) == y)),
        "eval_accuracy": jnp.float32(np.mean(model.predict(x_eval) == y_eval)),
    }
