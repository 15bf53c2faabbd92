"""P39's DDPM on a toy mixture as a task of the training core
(`config.task = "experiments.p39_mode_interpolation.task"`), on `disentax.diffusion`.

Data (`data.kind`, `hallucination.modes`): "line" ({1, 2, 3}, 1-D), "grid" (5×5) or "rotated"
(the diamond control), x = μ_c + σ ε with σ = `data.std` (2-D: both scaled as the paper's code
does, `hallucination.scale`); or, for recursive training,
`data.samples` (a `.npy` file `[N, D]` of a previous generation's kept samples), drawn uniformly
with replacement; the modes of `data.kind` still define the measurements.

Model and loss: ε-prediction `denoising_loss` with a `ResidualMLP` (`model.width`,
`model.depth`, `model.embedding_dim`, `model.activation`) on the linear schedule of
`diffusion.num_timesteps` steps, β from `diffusion.beta_start` to `diffusion.beta_end`.

Scores (`scores`): `eval.num_samples` ancestral samples with the fixed-large variance σ_t² = β_t
(the paper's), their x̂_0 over the last `eval.last_steps` steps, and `hallucination.summary`:
the hallucination rate (> 4σ from every mode), where the hallucinations lie, the ROC AUC of the
trajectory variance and its operating point, the modes covered.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from disentax import diffusion
from disentax.diffusion import schedule
from disentax.diffusion.denoisers import ACTIVATIONS, ResidualMLP
from disentax.errors import UserError
from disentax.tasks.diffusion import DiffusionTask
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.task import RunKeys, get_field, require_positive, validate_core
from experiments.p39_mode_interpolation import hallucination

POSITIVE_FIELDS = (
    "data.std",
    "model.width",
    "model.depth",
    "model.embedding_dim",
    "diffusion.num_timesteps",
    "eval.num_samples",
    "eval.last_steps",
)


@functools.cache
def _stored(path: str) -> np.ndarray:
    try:
        x = np.load(path)
    except OSError as e:
        raise UserError(f"data.samples: cannot read {path!r} ({e.__class__.__name__})") from None
    if x.ndim != 2 or len(x) == 0:
        raise UserError(f"data.samples: {path!r} holds {x.shape}, not samples [N, D]")
    return x.astype(np.float32)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModeTask(DiffusionTask):
    @property
    def modes(self) -> np.ndarray:
        return hallucination.modes(self.config.data.kind, self.config.data.std)

    def example_inputs(self) -> tuple[jax.Array, jax.Array]:
        return jnp.zeros((1, self.modes.shape[1])), jnp.zeros((1,), jnp.int32)

    def data(self, key: jax.Array, num: int) -> jax.Array:
        """`[num, D]` draws from the mixture, or from the stored samples (module docstring)."""
        d = self.config.data
        if d.samples:
            pool = jnp.asarray(_stored(d.samples))
            return pool[jax.random.randint(key, (num,), 0, pool.shape[0])]
        mu = jnp.asarray(self.modes, jnp.float32)
        sigma = hallucination.noise_std(d.kind, d.std)
        mode_key, noise_key = jax.random.split(key)
        mode = jax.random.randint(mode_key, (num,), 0, mu.shape[0])
        return mu[mode] + sigma * jax.random.normal(noise_key, (num, mu.shape[1]))

    @functools.cached_property
    def _trajectory(self):
        c = self.config

        @functools.partial(jax.jit, static_argnums=2)
        def run(params, key, num):
            eps_fn = diffusion.denoiser(self.model, params, self.schedule)
            shape = (num, self.modes.shape[1])
            return diffusion.ddpm_sample_with_x0(
                eps_fn, self.schedule, key, shape, last=c.eval.last_steps, variance="large"
            )

        return run

    def sample_with_x0(self, params, key: jax.Array, num: int) -> tuple[np.ndarray, np.ndarray]:
        """(samples `[num, D]`, x̂_0 of the last steps `[K, num, D]`), drawn in chunks of at most
        `eval.chunk` samples (fold_in(key, chunk)) to bound memory."""
        chunk = self.config.eval.chunk
        xs, x0s = [], []
        for i, start in enumerate(range(0, num, chunk)):
            n = min(chunk, num - start)
            x, x0 = self._trajectory(params, jax.random.fold_in(key, i), n)
            xs.append(np.asarray(x))
            x0s.append(np.asarray(x0))
        return np.concatenate(xs), np.concatenate(x0s, axis=1)

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """`hallucination.summary` of `eval.num_samples` samples (module docstring)."""
        x, x0_hat = self.sample_with_x0(params, key, self.config.eval.num_samples)
        numbers = hallucination.summary(x, x0_hat, self.config.data.kind, self.config.data.std)
        return {f"eval/{k}": float(v) for k, v in numbers.items()}

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)
        make_optimizer(config)


def validate(config: ml_collections.ConfigDict) -> None:
    validate_core(config)
    require_positive(config, POSITIVE_FIELDS)
    hallucination.modes(get_field(config, "data.kind"))
    activation = get_field(config, "model.activation")
    if activation not in ACTIVATIONS:
        raise UserError(f"unknown model.activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    if not 1 <= config.eval.last_steps <= config.diffusion.num_timesteps:
        raise UserError(
            f"eval.last_steps must be in 1..{config.diffusion.num_timesteps}, "
            f"got {config.eval.last_steps}"
        )
    if config.data.samples:
        _stored(config.data.samples)


def noise_schedule(config: ml_collections.ConfigDict) -> schedule.Schedule:
    d = config.diffusion
    return schedule.linear(d.num_timesteps, d.beta_start, d.beta_end)


def build(config: ml_collections.ConfigDict) -> ModeTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    noise = noise_schedule(config)
    m = config.model
    return ModeTask(
        config=config,
        model=ResidualMLP(m.width, m.depth, m.embedding_dim, activation=m.activation),
        objective_fn=functools.partial(
            diffusion.denoising_loss, schedule=noise, prediction="epsilon"
        ),
        tx=make_optimizer(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        schedule=noise,
    )
