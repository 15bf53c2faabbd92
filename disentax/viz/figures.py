"""The figures of a model at an evaluation (traversals, reconstructions, prior samples) from its
Linen module and params, and their writing to a directory and TensorBoard."""

import functools
import pathlib

import flax
import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError
from disentax.viz import traversals
from disentax.viz.images import image_grid, reconstruction_grid, save_gif, save_png

AROUND = ("prior", "posterior")


@functools.partial(jax.jit, static_argnames="model")
def _apply(params, x, *, model):
    return model.apply({"params": params}, x)


@functools.partial(jax.jit, static_argnames="model")
def _decode(params, z, *, model):
    """Decoded images sigmoid(logits) in [0, 1]."""
    return jax.nn.sigmoid(model.apply({"params": params}, z, method=model.decode))


def _codebook(params):
    """The one `codebook` parameter of a quantized model, or None."""
    found = [v for k, v in flax.traverse_util.flatten_dict(params).items() if k[-1] == "codebook"]
    return found[0] if len(found) == 1 else None


def latent_statistics(aux) -> dict:
    """From a model's aux over a data sample: `code` (each image's mean code, `[N, L]` or
    `[N, L, D]` for vector latents), `score` `[L]` (mean KL to N(0, 1) in nats for a Gaussian
    encoder, else `traversals.activity`), `inactive` `[L]` (activity below
    `traversals.ACTIVITY_THRESHOLD`), `order` (latents by decreasing score)."""
    if "logvar" in aux:
        code = np.asarray(aux["mu"])
        score = traversals.gaussian_kl(aux["mu"], aux["logvar"])
    else:
        quantized = aux.get("z_quantized")
        code = np.asarray(aux["z"] if quantized is None else quantized)
        score = traversals.activity(code)
    inactive = traversals.activity(code) < traversals.ACTIVITY_THRESHOLD
    return {
        "code": code,
        "score": score,
        "inactive": inactive,
        "order": traversals.latent_order(score),
    }


def traversal_values(aux, params, stats, k: float, steps: int, around: str = "prior"):
    """The center code (the first image's) and the values each latent sweeps, `[L, S]`: a
    Gaussian's ±k σ around the prior N(0, 1) or around the first image's posterior N(μ, σ²)
    (`around`); every codebook value of a scalar-quantized latent; for vector latents `[L, S, D]`
    the S codes of the shared codebook that latent uses most in the sample; ±k standard
    deviations of the sample around the first image's code for other deterministic codes."""
    if around not in AROUND:
        raise UserError(f"traversals go around one of {', '.join(AROUND)}, got {around!r}")
    center = jnp.asarray(stats["code"][0])
    num_latents = center.shape[0]
    codebook = _codebook(params)
    if "logvar" in aux and around == "prior":
        values = traversals.gaussian_values(jnp.zeros(num_latents), jnp.ones(num_latents), k, steps)
    elif "logvar" in aux:
        sigma = jnp.exp(0.5 * jnp.asarray(aux["logvar"][0]))
        values = traversals.gaussian_values(center, sigma, k, steps)
    elif codebook is not None and "z_quantized" in aux and center.ndim == 2:
        values = codebook[most_used(aux["z_indices"], codebook.shape[0], steps)]
    elif codebook is not None and "z_quantized" in aux:
        values = traversals.codebook_values(codebook, num_latents)
    else:
        spread = jnp.asarray(np.std(stats["code"], axis=0))
        values = traversals.gaussian_values(center, spread, k, steps)
    return center, values


def most_used(indices_NxL, num_codes: int, n: int) -> np.ndarray:
    """Per latent the `n` codes it takes most often in `indices [N, L]` (ties: lower index
    first): `[L, min(n, num_codes)]` int."""
    indices = np.asarray(indices_NxL)
    counts = np.stack([np.bincount(column, minlength=num_codes) for column in indices.T])
    return np.argsort(-counts, axis=1, kind="stable")[:, :n]


def prior_samples(key, aux, params, stats, n: int):
    """n codes from the prior: N(0, I) for a Gaussian encoder, each latent uniform over its
    codebook values for a quantized one (as QLAE's `QuantizedLatent.sample`); None otherwise."""
    num_latents = stats["code"].shape[1]
    if "logvar" in aux:
        return jax.random.normal(key, (n, num_latents))
    codebook = _codebook(params)
    if codebook is None or "z_quantized" not in aux:
        return None
    values = traversals.codebook_values(codebook, num_latents, vector=stats["code"].ndim == 3)
    index = jax.random.randint(key, (n, num_latents), 0, values.shape[1])
    return values[jnp.arange(num_latents), index].reshape(n, -1)


def model_figures(
    model,
    params,
    images_NxHxWxC,
    *,
    key: jax.Array,
    num_images: int = 8,
    traversal_range: float = 2.0,
    traversal_steps: int = 9,
    around: str = "prior",
) -> dict:
    """The pictures of a model with `__call__(x) -> (logits, aux)` and `decode(z) -> logits`
    (Bernoulli logits; shown as sigmoid) from a data sample `images [N, H, W, C]`:
    `reconstructions` (the first `num_images` over their reconstructions), `traversals` (one row per
    latent, by decreasing KL or activity, inactive ones framed red), `traversals.gif` (its
    frames), `samples` (16 decoded prior samples, when the model has a prior) as uint8 images,
    and `latents` (`latent_statistics`)."""
    x = jnp.asarray(images_NxHxWxC)
    logits, aux = _apply(params, x, model=model)
    stats = latent_statistics(aux)
    shown = min(num_images, x.shape[0])
    figures = {
        "reconstructions": reconstruction_grid(
            np.asarray(x[:shown]), np.asarray(jax.nn.sigmoid(logits[:shown]))
        )
    }
    center, values = traversal_values(aux, params, stats, traversal_range, traversal_steps, around)
    decode = functools.partial(_decode, params, model=model)
    sweep = traversals.traversal_images(decode, center, values)
    figures["traversals"] = traversals.traversal_grid(sweep, stats["order"], stats["inactive"])
    figures["traversals.gif"] = traversals.traversal_frames(
        sweep, stats["order"], stats["inactive"]
    )
    z = prior_samples(key, aux, params, stats, 16)
    if z is not None:
        samples = np.asarray(decode(z))
        figures["samples"] = image_grid(samples.reshape(2, 8, *samples.shape[1:]))
    figures["latents"] = stats
    return figures


def images_of(figures: dict) -> dict[str, np.ndarray]:
    """The still uint8 images `{name: [H, W, 3]}` among `figures` (not frames or statistics)."""
    return {
        n: v
        for n, v in figures.items()
        if isinstance(v, np.ndarray) and v.dtype == np.uint8 and v.ndim == 3
    }


def write_figures(figures: dict, directory: pathlib.Path) -> list[pathlib.Path]:
    """Writes `figures`' still images as `directory/<name>.png` (pixel pictures enlarged 2×,
    `*_heatmap` plots as drawn) and frame lists as `directory/<name>` animated GIFs; returns the
    paths written."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in images_of(figures).items():
        paths.append(directory / f"{name}.png")
        save_png(paths[-1], image, upscale=1 if name.endswith("_heatmap") else 2)
    for name, frames in figures.items():
        if name.endswith(".gif"):
            paths.append(directory / name)
            save_gif(paths[-1], frames)
    return paths
