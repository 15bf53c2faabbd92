"""P51's task for the training core: a deep linear encoder and a linear predictor (JEPA) or
decoder (MAE) trained by full-batch gradient descent on paired Gaussian views.

`config.task = "experiments.p51_jepa_implicit_bias.task"`. Data (`config.data`): the static or
dynamic (AR(1)) model of `theory.moments`, d = len(signal_var) features, one training set of
`data.num_pairs` pairs drawn once from the run's data key: full-batch GD. Since both losses are
quadratic in the data, the full batch enters only through its second moments M = (1/N) Σ z zᵀ,
z = (x, y); each step reads the 2d pseudo-pairs P = √(2d) M^{1/2} (`compress`), which have the
same M, hence the same loss and gradient to float rounding, at a cost independent of N.
Model (`config.model`): depth L, initial encoder gain ε (`init_scale`), balanced aligned start
(`balanced_init`). Objective (`config.objective.name`): `jepa` or `mae` (`theory`'s losses). The
optimizer is `optax.sgd(optimizer.learning_rate)`: the paper's plain gradient descent, not the
core's Adam. Each step logs the encoder's gain on every feature (`gain/<i>`, ‖W̄ e_i‖) and the
largest balancedness defect (`balance`), which `main.py` reads back as trajectories.
"""

import dataclasses
import functools
import itertools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from disentax.errors import UserError
from disentax.train import parallel
from disentax.train.task import RunKeys, Task, get_field, validate_core
from experiments.p51_jepa_implicit_bias import theory


def balanced_init(key: jax.Array, depth: int, dim: int, init_scale: float) -> jax.Array:
    """`[L, d, d]` layers W_a = ε^{1/L} U_a U_{a−1}ᵀ with U_0 = U_L = I and U_1..U_{L−1} random
    orthogonal: balanced (W_{a+1}ᵀW_{a+1} = W_a W_aᵀ = ε^{2/L} I) with product W̄ = ε I, aligned
    with the features; the hidden rotations are the seed's."""
    eye = jnp.eye(dim)
    hidden = [
        jnp.linalg.qr(jax.random.normal(k, (dim, dim)))[0] for k in jax.random.split(key, depth)
    ]
    rotations = [eye, *hidden[: depth - 1], eye]
    scale = init_scale ** (1.0 / depth)
    return jnp.stack([scale * rotations[a + 1] @ rotations[a].T for a in range(depth)])


class DeepLinear(nn.Module):
    """Encoder W̄ = W_L ⋯ W_1 (`layers [L, d, d]`) and predictor/decoder V (`predictor [d, d]`,
    ε^{1/L} I at the start); `__call__(x) = V W̄ x`, `encode(x) = W̄ x`; x `[B, d]`."""

    depth: int
    dim: int
    init_scale: float

    def setup(self):
        self.layers = self.param(
            "layers", lambda k: balanced_init(k, self.depth, self.dim, self.init_scale)
        )
        self.predictor = self.param(
            "predictor", lambda k: self.init_scale ** (1.0 / self.depth) * jnp.eye(self.dim)
        )

    def encode(self, x: jax.Array) -> jax.Array:
        return x @ product(self.layers).T

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.encode(x) @ self.predictor.T


def product(layers: jax.Array) -> jax.Array:
    """W̄ = W_L ⋯ W_1 of `layers [L, d, d]` (W_1 first)."""
    return functools.reduce(lambda acc, w: w @ acc, layers[1:], layers[0])


def balance_defect(params) -> jax.Array:
    """max over consecutive pairs (V as layer L+1) of max |W_{a+1}ᵀW_{a+1} − W_a W_aᵀ|: 0 on
    the balanced start, conserved by gradient flow, O(lr²) per step under gradient descent."""
    ws = [*params["layers"], params["predictor"]]
    defects = [jnp.max(jnp.abs(b.T @ b - a @ a.T)) for a, b in itertools.pairwise(ws)]
    return jnp.max(jnp.stack(defects))


def diagnostics(params) -> dict:
    """`gain/<i>` = ‖W̄ e_i‖ per feature and `balance` (`balance_defect`)."""
    gains = jnp.linalg.norm(product(params["layers"]), axis=0)
    return {**{f"gain/{i}": g for i, g in enumerate(gains)}, "balance": balance_defect(params)}


def jepa_loss(params, batch, rng, *, model, step):
    """½ mean_b ‖V W̄ x_b − SG(W̄ y_b)‖² (stop-gradient target) -> (loss, metrics)."""
    del rng, step
    target = jax.lax.stop_gradient(model.apply({"params": params}, batch["y"], method="encode"))
    residual = model.apply({"params": params}, batch["x"]) - target
    loss = 0.5 * jnp.mean(jnp.sum(residual**2, axis=-1))
    return loss, {"loss": loss, **diagnostics(params)}


def mae_loss(params, batch, rng, *, model, step):
    """½ mean_b ‖V W̄ x_b − y_b‖² (reconstruction in data space) -> (loss, metrics)."""
    del rng, step
    residual = model.apply({"params": params}, batch["x"]) - batch["y"]
    loss = 0.5 * jnp.mean(jnp.sum(residual**2, axis=-1))
    return loss, {"loss": loss, **diagnostics(params)}


LOSSES = {"jepa": jepa_loss, "mae": mae_loss}


def compress(batch: dict) -> dict:
    """The 2d pseudo-pairs {"x", "y"} `[2d, d]` whose second moments equal the batch's:
    with M = mean_b z_b z_bᵀ of z = (x, y), the rows of √(2d) M^{1/2} (symmetric square root)."""
    z = jnp.concatenate([batch["x"], batch["y"]], axis=-1)
    n, two_d = z.shape
    w, u = jnp.linalg.eigh(z.T @ z / n)
    p = jnp.sqrt(two_d) * (u * jnp.sqrt(jnp.maximum(w, 0.0))) @ u.T
    return {"x": p[:, : two_d // 2], "y": p[:, two_d // 2 :]}


def sample_pairs(key: jax.Array, data: ml_collections.ConfigDict, n: int) -> dict:
    """n pairs {"x", "y"} `[n, d]` of the static or dynamic model (`theory.moments`)."""
    s2 = jnp.asarray(data.signal_var, jnp.float32)
    noise = jnp.sqrt(jnp.asarray(data.noise_var, jnp.float32))
    kz, kxi, kx, ky = jax.random.split(key, 4)
    shape = (n, s2.shape[0])
    z = jnp.sqrt(s2) * jax.random.normal(kz, shape)
    if data.model == "static":
        z_next = z
    else:
        gamma = jnp.asarray(data.gamma, jnp.float32)
        z_next = gamma * z + jnp.sqrt((1 - gamma**2) * s2) * jax.random.normal(kxi, shape)
    return {
        "x": z + noise * jax.random.normal(kx, shape),
        "y": z_next + noise * jax.random.normal(ky, shape),
    }


@dataclasses.dataclass(frozen=True, kw_only=True)
class LinearSSLTask(Task):
    """Full-batch GD of deep linear JEPA or MAE (module docstring)."""

    def optimizer(self, **values) -> optax.GradientTransformation:
        return sgd(self.config, **values)

    @property
    def dim(self) -> int:
        return len(self.config.data.signal_var)

    def example_inputs(self) -> tuple[jax.Array]:
        return (jnp.zeros((1, self.dim), jnp.float32),)

    def batch(self, key: jax.Array, step) -> dict:
        """The run's one training set (`data.num_pairs` pairs from `key`) as its 2d pseudo-pairs
        (`compress`), whatever the step."""
        del step
        return compress(sample_pairs(key, self.config.data, self.config.data.num_pairs))

    @property
    def pure_batches(self) -> bool:
        return False  # populations stack the members' `batch_fn`s: each drawn once, not per step

    @functools.cached_property
    def batch_fn(self):
        """step -> the training set, drawn and placed once (the same at every step)."""
        data = jax.jit(self.batch, out_shardings=self.batch_sharding)(self.keys.data, 0)
        return lambda step: data

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """The final gains `eval/gain/<i>`, `eval/balance`, and `eval/off_diagonal`: the
        largest |W̄_ij|, i ≠ j, relative to the largest gain (0 for exactly decoupled features)."""
        del key
        w = product(params["layers"])
        off = jnp.max(jnp.abs(w - jnp.diag(jnp.diag(w)))) / jnp.max(jnp.abs(w))
        values = {f"eval/{k}": v for k, v in diagnostics(params).items()}
        return {**{k: float(v) for k, v in values.items()}, "eval/off_diagonal": float(off)}

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)


def validate(config: ml_collections.ConfigDict) -> None:
    """The core's checks and this task's: a known objective and data model, depth ≥ 1,
    0 < ε < 1, variances > 0 (noise ≥ 0), and for the dynamic model |γ| < 1, one per feature."""
    validate_core(config)
    name = get_field(config, "objective.name")
    if name not in LOSSES:
        raise UserError(f"config field 'objective.name' must be one of jepa, mae; got {name!r}")
    data = get_field(config, "data")
    if data.model not in theory.DATA_MODELS:
        raise UserError(f"config field 'data.model' must be static or dynamic, got {data.model!r}")
    d = len(data.signal_var)
    if d < 1 or len(data.noise_var) != d or min(data.signal_var) <= 0 or min(data.noise_var) < 0:
        raise UserError(
            "config fields 'data.signal_var' (> 0) and 'data.noise_var' (>= 0) need one value per "
            f"feature, got {data.signal_var} and {data.noise_var}"
        )
    if data.model == "dynamic" and (len(data.gamma) != d or max(abs(g) for g in data.gamma) >= 1):
        raise UserError(f"config field 'data.gamma' needs {d} values in (-1, 1), got {data.gamma}")
    if get_field(config, "batch_size") != 2 * d or get_field(config, "data.num_pairs") < 2 * d:
        raise UserError(
            f"config field 'batch_size' must be 2d = {2 * d} (the pseudo-pairs of `compress`) "
            f"and 'data.num_pairs' at least that, got {config.batch_size}, {data.num_pairs}"
        )
    if get_field(config, "model.depth") < 1:
        raise UserError(f"config field 'model.depth' must be >= 1, got {config.model.depth}")
    if not 0 < get_field(config, "model.init_scale") < 1:
        raise UserError(
            f"config field 'model.init_scale' must be in (0, 1), got {config.model.init_scale}"
        )


def sgd(config: ml_collections.ConfigDict, **values) -> optax.GradientTransformation:
    """Plain gradient descent at `optimizer.learning_rate` (or `values["learning_rate"]`, a
    population member's); no other optimizer value applies to it."""
    other = sorted(set(values) - {"learning_rate"})
    if other:
        raise UserError(
            f"this task's optimizer is plain gradient descent: {', '.join(other)} cannot vary "
            "(only optimizer.learning_rate)"
        )
    return optax.sgd(values.get("learning_rate", config.optimizer.learning_rate))


def build(config: ml_collections.ConfigDict) -> LinearSSLTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    return LinearSSLTask(
        config=config,
        model=DeepLinear(config.model.depth, len(config.data.signal_var), config.model.init_scale),
        objective_fn=LOSSES[config.objective.name],
        tx=sgd(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
    )
