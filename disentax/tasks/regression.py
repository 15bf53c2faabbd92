"""Regression: an MLP student fits a fixed random MLP teacher (teacher-student regression).

Data: x ~ N(0, I_D), y = g(x) + σ·ε with ε ~ N(0, I), where the teacher g is a tanh MLP whose
weights come from `PRNGKey(data.teacher_seed)` alone, so every seed of a population fits the
same function. The student f_θ is an `MLP` (`model.widths`, ReLU). The loss is

    L(θ) = mean_b ||f_θ(x_b) − y_b||² / P + λ·Σ θ²        (P outputs, λ = `objective.l2`)

and the evaluation R² = 1 − E||f_θ(x) − g(x)||² / E||g(x) − E g||² on `eval.num_samples` fresh
noiseless targets (1: the teacher recovered).
"""

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections

from disentax.errors import UserError
from disentax.models.mlp import MLP
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.task import RunKeys, Task, get_field, require_positive, validate_core

POSITIVE_FIELDS = ("data.input_dim", "data.outputs", "eval.num_samples")


def squared_error(params, batch, rng, *, model, step, l2=0.0):
    """mean_b ||f_θ(x_b) − y_b||² / P + l2·Σθ² -> (loss, {"loss", "mse", "l2_penalty"})."""
    del rng, step
    prediction = model.apply({"params": params}, batch["x"])
    mse = jnp.mean((prediction - batch["y"]) ** 2)
    penalty = sum(jnp.sum(p**2) for p in jax.tree.leaves(params))
    loss = mse + l2 * penalty
    return loss, {"loss": loss, "mse": mse, "l2_penalty": penalty}


@dataclasses.dataclass(frozen=True, kw_only=True)
class RegressionTask(Task):
    teacher: MLP
    teacher_params: Any

    def example_inputs(self) -> tuple[jax.Array]:
        return (jnp.zeros((1, self.config.data.input_dim), jnp.float32),)

    def targets(self, x: jax.Array) -> jax.Array:
        """g(x), the teacher's noiseless output."""
        return self.teacher.apply({"params": self.teacher_params}, x)

    def batch(self, key: jax.Array, step) -> dict:
        """{"x" `[B, D]`, "y" `[B, P]`} of `step`, drawn from `fold_in(key, step)`."""
        d = self.config.data
        x_key, noise_key = jax.random.split(jax.random.fold_in(key, step))
        x = jax.random.normal(x_key, (self.config.batch_size, d.input_dim))
        noise = d.noise_std * jax.random.normal(noise_key, (self.config.batch_size, d.outputs))
        return {"x": x, "y": self.targets(x) + noise}

    @functools.cached_property
    def _scores(self):
        n = self.config.eval.num_samples

        @jax.jit
        def scores(params, key):
            x = jax.random.normal(key, (n, self.config.data.input_dim))
            y = self.targets(x)
            error = jnp.mean((self.model.apply({"params": params}, x) - y) ** 2)
            return {"eval/r2": 1.0 - error / jnp.mean(jnp.var(y, axis=0)), "eval/test_mse": error}

        return scores

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """R² and the noiseless test MSE on `eval.num_samples` points drawn from `key`."""
        return {k: float(v) for k, v in self._scores(params, key).items()}

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)
        make_optimizer(config)


def validate(config: ml_collections.ConfigDict) -> None:
    validate_core(config)
    require_positive(config, POSITIVE_FIELDS)
    if get_field(config, "data.noise_std") < 0 or get_field(config, "objective.l2") < 0:
        raise UserError(
            "config fields 'data.noise_std' and 'objective.l2' must be >= 0, got "
            f"{config.data.noise_std} and {config.objective.l2}"
        )


def build(config: ml_collections.ConfigDict) -> RegressionTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    d = config.data
    teacher = MLP(tuple(d.teacher_widths), d.outputs, activation="tanh")
    x = jnp.zeros((1, d.input_dim), jnp.float32)
    return RegressionTask(
        config=config,
        model=MLP(tuple(config.model.widths), d.outputs),
        objective_fn=squared_error,
        tx=make_optimizer(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        teacher=teacher,
        teacher_params=teacher.init(jax.random.PRNGKey(d.teacher_seed), x)["params"],
    )
