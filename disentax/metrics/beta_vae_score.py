"""BetaVAE score (Higgins et al. 2017): which factor was held fixed, read from code differences."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.metrics import inputs, progress
from disentax.metrics.estimators import encoding, logistic
from disentax.metrics.factor_vae_score import encode_factors
from disentax.metrics.sampling import default_images_per_call, uniform_factors


def beta_vae_features(
    dataset,
    representation_fn,
    rng,
    num_points: int,
    batch_size: int,
    images_per_call: int | None = None,
):
    """`num_points` (features `[P, L]`, labels `[P]`) as disentanglement_lib's BetaVAE sampler.

    Per point: a factor k uniform over the K factors; two batches of `batch_size` factor vectors
    drawn i.i.d. and exactly uniform by `sampling.uniform_factors` (one Threefry word per
    group of factors, not `dataset.sample_factors`), with factor k of the second copied from the
    first; feature = (1/B) Σ_b |r(x¹_b) − r(x²_b)|, label = k, r = `representation_fn` on
    `dataset.observations_from_factors` images. Points are drawn Q = max(1, min(P,
    ⌊`images_per_call`/(2B)⌋)) at a time (`images_per_call` None:
    `default_images_per_call(dataset)`), both copies of a call's Q points (2·Q·B images) in one
    representation call, call i from key i of `split(rng, ⌈P/Q⌉)`: procedural datasets sample,
    render and encode all calls in one jitted `lax.map`; stored datasets render each call's
    images on the host between jitted sampling and encoding.
    """
    from disentax.data import is_procedural

    per_call, num_calls = _calls(dataset, num_points, batch_size, images_per_call)
    keys = jax.random.split(rng, num_calls)
    if is_procedural(dataset):
        features, labels = _procedural_features(
            dataset, representation_fn, batch_size, per_call, keys
        )
    else:
        encode = jax.jit(representation_fn)
        sizes = tuple(dataset.factor_sizes)
        calls = []
        for key in keys:
            labels, factors, render_key = _point_factors(sizes, batch_size, per_call, key)
            codes = encode_factors(dataset, encode, np.asarray(factors), render_key)
            calls.append((_mean_difference(codes, batch_size), labels))
        features, labels = (jnp.stack(parts) for parts in zip(*calls, strict=True))
    return features.reshape(-1, features.shape[-1])[:num_points], labels.reshape(-1)[:num_points]


def _calls(dataset, num_points, batch_size, images_per_call):
    """(points per representation call Q, number of calls) of `beta_vae_features`."""
    images_per_call = images_per_call or default_images_per_call(dataset)
    per_call = max(1, min(num_points, images_per_call // (2 * batch_size)))
    return per_call, -(-num_points // per_call)


def point_factors(factor_sizes: tuple[int, ...], batch_size: int, per_call: int, key):
    """One call's labels `[Q]`, factor vectors `[2·Q·B, K]` (the first copies of its Q =
    `per_call` points, then the second copies, B vectors per point) and rendering key."""
    k = len(factor_sizes)
    index_key, factor_key, render_key = jax.random.split(key, 3)
    index = uniform_factors(index_key, (k,), per_call)[:, 0]
    factors = uniform_factors(factor_key, factor_sizes, 2 * per_call * batch_size)
    first, second = factors.reshape(2, per_call, batch_size, k)
    second = jnp.where(jnp.arange(k) == index[:, None, None], first, second)
    return index, jnp.concatenate([first, second]).reshape(-1, k), render_key


@functools.partial(jax.jit, static_argnums=1)
def _mean_difference(codes, batch_size):
    """(1/B) Σ_b |r(x¹_b) − r(x²_b)| per point: codes `[2·Q·B, L] -> [Q, L]`."""
    codes = codes.reshape(2, -1, batch_size, codes.shape[-1])
    return jnp.mean(jnp.abs(codes[0] - codes[1]), axis=1)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _procedural_features(dataset, representation_fn, batch_size, per_call, keys):
    sizes = tuple(dataset.factor_sizes)

    def call(key):
        labels, factors, render_key = point_factors(sizes, batch_size, per_call, key)
        codes = encode_factors(dataset, representation_fn, factors, render_key)
        return _mean_difference(codes, batch_size), labels

    return jax.lax.map(call, keys)


_point_factors = jax.jit(point_factors, static_argnums=(0, 1, 2))


def beta_vae_score(
    dataset,
    representation_fn,
    rng,
    *,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    mode: str = "jax",
    images_per_call: int | None = None,
):
    """BetaVAE score: `-> {"train_accuracy", "eval_accuracy"}` (disentanglement_lib's sizes).

    `beta_vae_features` draws `num_train` training and `num_eval` evaluation points (separate
    keys from `rng`); a `LogisticRegression()` (C = 1, L2, multinomial over the K factors;
    `logistic.fit_logistic_regression` in `mode="jax"`, sklearn in `mode="reference"`) is fit on
    the training features, and each accuracy is the fraction of points whose fixed factor it
    predicts. `representation_fn(images [B, H, W, C]) -> codes [B, L]` must be jittable for
    procedural datasets; `images_per_call` bounds the images per representation call (memory;
    None: `default_images_per_call(dataset)`). A progress bar counts the images encoded
    (`progress.images_bar`).
    """
    inputs.interventional_inputs("beta_vae_score", dataset, representation_fn, rng)
    inputs.check_choice("mode", mode, ("jax", "reference"))
    for name, value in [
        ("batch_size", batch_size),
        ("num_train", num_train),
        ("num_eval", num_eval),
        ("images_per_call", 1 if images_per_call is None else images_per_call),
    ]:
        if not isinstance(value, int) or value < 1:
            raise UserError(f"{name} must be a positive int, got {value!r}")
    num_factors = len(dataset.factor_sizes)
    if num_factors < 2:
        raise UserError(f"beta_vae_score needs at least 2 factors, got {num_factors}")
    train_key, eval_key = jax.random.split(rng)
    sample = functools.partial(
        beta_vae_features,
        dataset,
        representation_fn,
        batch_size=batch_size,
        images_per_call=images_per_call,
    )
    total = 0
    for n in (num_train, num_eval):
        per_call, num_calls = _calls(dataset, n, batch_size, images_per_call)
        total += 2 * per_call * num_calls * batch_size
    with progress.images_bar("beta_vae_score", total):
        x, y = sample(train_key, num_train)
        x_eval, y_eval = jax.block_until_ready(sample(eval_key, num_eval))
    inputs.require_finite("beta_vae_score: the codes of representation_fn", x)
    inputs.require_finite("beta_vae_score: the codes of representation_fn", x_eval)
    if mode == "reference":
        return _reference(x, y, x_eval, y_eval)
    return _jax_accuracies(x, y, x_eval, y_eval, num_factors)


@functools.partial(jax.jit, static_argnums=4)
def _jax_accuracies(x, y, x_eval, y_eval, num_factors):
    params = logistic.fit_logistic_regression(x, y, num_factors)
    return {
        "train_accuracy": jnp.mean(encoding.linear_predict(params, x) == y),
        "eval_accuracy": jnp.mean(encoding.linear_predict(params, x_eval) == y_eval),
    }


def _reference(x, y, x_eval, y_eval):
    inputs.require_sklearn("beta_vae_score")
    from sklearn.linear_model import LogisticRegression

    x, y, x_eval, y_eval = (np.asarray(a, np.float64) for a in (x, y, x_eval, y_eval))
    model = LogisticRegression(random_state=0).fit(x, y)
    return {
        "train_accuracy": jnp.float32(np.mean(model.predict(x) == y)),
        "eval_accuracy": jnp.float32(np.mean(model.predict(x_eval) == y_eval)),
    }
