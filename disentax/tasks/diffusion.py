"""Denoising diffusion (DDPM, Ho et al. 2020) on a Gaussian mixture in D dimensions.

Data: x_0 = μ_c + s·ε, c uniform over `data.num_modes` modes with μ_c = m_c·1 and m_c evenly
spaced over [−separation/2, separation/2], s = `data.mode_std`.

Forward process: q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I), ᾱ_t = Π_{s ≤ t} (1 − β_s), t = 0..T−1,
β linear from `beta_start` to `beta_end` (DDPM's 1e-4..0.02 at T = 1000; improved DDPM scales both
by 1000/T for fewer steps: 1e-3..0.2 at T = 100, the default here).

Loss (DDPM's L_simple, ε-prediction): E_{t, x_0, ε} ||ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)||² / D.

Sampling (ancestral, σ_t² = β_t): x_{T−1} ~ N(0, I),
x_{t−1} = (x_t − β_t / √(1 − ᾱ_t) · ε_θ(x_t, t)) / √(1 − β_t) + σ_t z (no noise at t = 0).

Evaluation: the 1-Wasserstein distance W1 between `eval.num_samples` samples and as many data
draws, per dimension (mean |sorted − sorted|), averaged over dimensions.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import ml_collections

from disentax.errors import UserError
from disentax.models.mlp import Denoiser
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.task import RunKeys, Task, get_field, require_positive, validate_core

POSITIVE_FIELDS = (
    "data.dim",
    "data.num_modes",
    "data.mode_std",
    "diffusion.num_timesteps",
    "eval.num_samples",
)


def linear_betas(num_timesteps: int, beta_start: float, beta_end: float) -> jax.Array:
    """β_t, t = 0..T−1, linear from `beta_start` to `beta_end`."""
    return jnp.linspace(beta_start, beta_end, num_timesteps, dtype=jnp.float32)


def epsilon_loss(params, batch, rng, *, model, step, betas):
    """L_simple: ||ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)||² / D, t uniform, averaged over the batch
    -> (loss, {"loss"})."""
    del step
    x0 = batch["x"]
    t_key, noise_key = jax.random.split(rng)
    t = jax.random.randint(t_key, (x0.shape[0],), 0, betas.shape[0])
    eps = jax.random.normal(noise_key, x0.shape)
    alpha_bar = jnp.cumprod(1.0 - betas)[t][:, None]
    x_t = jnp.sqrt(alpha_bar) * x0 + jnp.sqrt(1.0 - alpha_bar) * eps
    loss = jnp.mean((eps - model.apply({"params": params}, x_t, t)) ** 2)
    return loss, {"loss": loss}


def sample(model, params, betas: jax.Array, key: jax.Array, num: int, dim: int) -> jax.Array:
    """`[num, dim]` samples by DDPM's ancestral sampler (σ_t² = β_t), T steps in one scan."""
    alpha_bar = jnp.cumprod(1.0 - betas)
    start_key, noise_key = jax.random.split(key)

    def denoise(x, t):
        eps = model.apply({"params": params}, x, jnp.full((num,), t))
        mean = (x - betas[t] / jnp.sqrt(1.0 - alpha_bar[t]) * eps) / jnp.sqrt(1.0 - betas[t])
        z = jax.random.normal(jax.random.fold_in(noise_key, t), x.shape)
        return mean + jnp.where(t > 0, jnp.sqrt(betas[t]), 0.0) * z, None

    x = jax.random.normal(start_key, (num, dim))
    x, _ = jax.lax.scan(denoise, x, jnp.arange(betas.shape[0])[::-1])
    return x


def wasserstein_1d(a: jax.Array, b: jax.Array) -> jax.Array:
    """W1 between the empirical distributions of `a` and `b` `[N, D]` per dimension, averaged:
    mean_d mean_n |sort(a)_nd − sort(b)_nd|."""
    return jnp.mean(jnp.abs(jnp.sort(a, axis=0) - jnp.sort(b, axis=0)))


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiffusionTask(Task):
    betas: jax.Array

    def example_inputs(self) -> tuple[jax.Array, jax.Array]:
        return jnp.zeros((1, self.config.data.dim)), jnp.zeros((1,), jnp.int32)

    def data(self, key: jax.Array, num: int) -> jax.Array:
        """`[num, D]` draws from the mixture."""
        d = self.config.data
        mode_key, noise_key = jax.random.split(key)
        centres = jnp.linspace(-d.separation / 2, d.separation / 2, d.num_modes)
        mode = jax.random.randint(mode_key, (num,), 0, d.num_modes)
        return centres[mode][:, None] + d.mode_std * jax.random.normal(noise_key, (num, d.dim))

    def batch(self, key: jax.Array, step) -> dict:
        """{"x" `[B, D]`}: the data of `step`, drawn from `fold_in(key, step)`."""
        return {"x": self.data(jax.random.fold_in(key, step), self.config.batch_size)}

    def sample(self, params, key: jax.Array, num: int) -> jax.Array:
        return sample(self.model, params, self.betas, key, num, self.config.data.dim)

    @functools.cached_property
    def _scores(self):
        n = self.config.eval.num_samples

        @jax.jit
        def scores(params, key):
            sample_key, data_key = jax.random.split(key)
            w1 = wasserstein_1d(self.sample(params, sample_key, n), self.data(data_key, n))
            return {"eval/w1": w1}

        return scores

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """W1 between `eval.num_samples` samples and data draws (both from `key`)."""
        return {k: float(v) for k, v in self._scores(params, key).items()}

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)
        make_optimizer(config)


def validate(config: ml_collections.ConfigDict) -> None:
    validate_core(config)
    require_positive(config, POSITIVE_FIELDS)
    start, end = get_field(config, "diffusion.beta_start"), get_field(config, "diffusion.beta_end")
    if not 0 < start <= end < 1:
        raise UserError(
            "config fields 'diffusion.beta_start' and 'diffusion.beta_end' need "
            f"0 < beta_start <= beta_end < 1, got {start} and {end}"
        )


def build(config: ml_collections.ConfigDict) -> DiffusionTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    schedule = config.diffusion
    betas = linear_betas(schedule.num_timesteps, schedule.beta_start, schedule.beta_end)
    return DiffusionTask(
        config=config,
        model=Denoiser(tuple(config.model.widths), config.model.embedding_dim),
        objective_fn=functools.partial(epsilon_loss, betas=betas),
        tx=make_optimizer(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        betas=betas,
    )
