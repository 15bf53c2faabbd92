"""Denoising diffusion (`disentax.diffusion`) through the training core, on a Gaussian mixture in
D dimensions.

Data: x_0 = μ_c + s·ε, c uniform over `data.num_modes` modes with μ_c = m_c·1 and m_c evenly
spaced over [−separation/2, separation/2], s = `data.mode_std`.

Model and loss: a `ResidualMLP` (`model.width`, `model.depth`, `model.embedding_dim`) trained by
`denoising_loss` (L_simple with `diffusion.prediction` ε, x_0 or v) on the noise schedule
`diffusion.schedule` of `diffusion.num_timesteps` steps: "linear" (β from `beta_start` to
`beta_end`; DDPM's 1e-4..0.02 at T = 1000, improved DDPM scales both by 1000/T for fewer steps:
1e-3..0.2 at T = 100) or "cosine".

Sampling: `eval.sampler` "ddpm" (ancestral, σ_t² = β̃_t) or "ddim" (deterministic, over
`eval.sampler_steps` steps). Evaluation: the 1-Wasserstein distance W1 between
`eval.num_samples` samples and as many data draws, per dimension (mean |sorted − sorted|),
averaged over dimensions.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import ml_collections

from disentax import diffusion
from disentax.diffusion import parameterisation, schedule
from disentax.diffusion.denoisers import ResidualMLP
from disentax.errors import UserError
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.task import RunKeys, Task, get_field, require_positive, validate_core

POSITIVE_FIELDS = (
    "data.dim",
    "data.num_modes",
    "data.mode_std",
    "model.width",
    "model.depth",
    "model.embedding_dim",
    "eval.num_samples",
)
SAMPLERS = ("ddpm", "ddim")


def noise_schedule(config: ml_collections.ConfigDict) -> schedule.Schedule:
    """The config's `diffusion.schedule` (linear with `beta_start`, `beta_end`, or cosine)."""
    d = config.diffusion
    kind = get_field(config, "diffusion.schedule")
    betas = {"beta_start": d.beta_start, "beta_end": d.beta_end} if kind == "linear" else {}
    return schedule.make(kind, d.num_timesteps, **betas)


def wasserstein_1d(a: jax.Array, b: jax.Array) -> jax.Array:
    """W1 between the empirical distributions of `a` and `b` `[N, D]` per dimension, averaged:
    mean_d mean_n |sort(a)_nd − sort(b)_nd|."""
    return jnp.mean(jnp.abs(jnp.sort(a, axis=0) - jnp.sort(b, axis=0)))


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiffusionTask(Task):
    schedule: schedule.Schedule

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
        """`[num, D]` samples by `eval.sampler` (module docstring)."""
        c = self.config
        eps_fn = diffusion.denoiser(
            self.model, params, self.schedule, prediction=c.diffusion.prediction
        )
        if c.eval.sampler == "ddpm":
            return diffusion.ddpm_sample(eps_fn, self.schedule, key, (num, c.data.dim))
        x_last = jax.random.normal(key, (num, c.data.dim))
        return diffusion.ddim_sample(eps_fn, self.schedule, x_last, c.eval.sampler_steps)

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
    parameterisation.check_prediction(get_field(config, "diffusion.prediction"))
    noise_schedule(config)
    sampler = get_field(config, "eval.sampler")
    if sampler not in SAMPLERS:
        raise UserError(f"unknown eval.sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    if sampler == "ddim":
        diffusion.ddim_timesteps(config.diffusion.num_timesteps, config.eval.sampler_steps)


def build(config: ml_collections.ConfigDict) -> DiffusionTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    noise = noise_schedule(config)
    m = config.model
    return DiffusionTask(
        config=config,
        model=ResidualMLP(m.width, m.depth, m.embedding_dim),
        objective_fn=functools.partial(
            diffusion.denoising_loss, schedule=noise, prediction=config.diffusion.prediction
        ),
        tx=make_optimizer(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        schedule=noise,
    )
