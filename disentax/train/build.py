"""Turns a config into the run's parts: dataset, model, bound loss, optimizer, mesh, keys, state."""

import dataclasses
import functools
import inspect
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax.sharding import Mesh

from disentax import data
from disentax.errors import UserError
from disentax.models import MODELS
from disentax.objectives import OBJECTIVES
from disentax.registry import call_registered
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.state import TrainState
from disentax.train.step import train_step

POSITIVE_FIELDS = (
    "batch_size",
    "num_latents",
    "log_every_steps",
    "checkpoint_every_steps",
    "keep_checkpoints",
    "eval.num_samples",
    "eval.batch_size",
    "eval.num_bins",
    "eval.num_images",
    "eval.traversal_steps",
)


SAMPLING_MODES = ("iid", "epochs")  # i.i.d. factors (disentanglement_lib) or shuffled epochs


@dataclasses.dataclass(frozen=True)
class RunKeys:
    """Independent streams derived from the seed: init, train (per step), data (per step), eval."""

    init: jax.Array
    train: jax.Array
    data: jax.Array
    eval: jax.Array

    @classmethod
    def from_seed(cls, seed: int) -> "RunKeys":
        root = jax.random.PRNGKey(seed)
        return cls(*(jax.random.fold_in(root, i) for i in range(4)))


@dataclasses.dataclass(frozen=True)
class Run:
    config: ml_collections.ConfigDict
    dataset: data.GroundTruthDataset
    model: nn.Module
    loss_fn: Callable
    tx: optax.GradientTransformation
    mesh: Mesh
    keys: RunKeys

    def init_state(self) -> TrainState:
        """Fresh state, replicated over the mesh."""
        x = jnp.zeros((1, *self.dataset.observation_shape), jnp.float32)

        def init():
            params = self.model.init({"params": self.keys.init}, x)["params"]
            return TrainState.create(params, self.tx, self.keys.train)

        return jax.jit(init, out_shardings=parallel.replicated(self.mesh))()

    @functools.cached_property
    def step_fn(self) -> Callable:
        """`train_step` jitted on the mesh: state replicated and donated, batch split on `data`."""
        replicated = parallel.replicated(self.mesh)
        return jax.jit(
            functools.partial(train_step, loss_fn=self.loss_fn),
            in_shardings=(replicated, parallel.batch_sharded(self.mesh)),
            out_shardings=replicated,
            donate_argnums=0,
        )

    @functools.cached_property
    def batch_fn(self) -> Callable[[int], dict]:
        """step -> the global batch of that step, sharded over `data`: rendered on the device for
        procedural datasets with i.i.d. sampling, gathered on the host otherwise."""
        sharding = parallel.batch_sharded(self.mesh)
        if data.is_procedural(self.dataset) and self.config.data_sampling == "iid":
            return data.procedural_batches(
                self.dataset, self.config.batch_size, self.keys.data, sharding
            )
        return data.stored_batches(
            self.dataset,
            self.config.batch_size,
            self.config.seed,
            mode=self.config.data_sampling,
            sharding=sharding,
        )


def build(config: ml_collections.ConfigDict) -> Run:
    validate(config)
    dataset = data.get(config.dataset)
    height, width, channels = dataset.observation_shape
    model = call_registered(
        MODELS, config.model, num_latents=config.num_latents, channels=channels, image_size=height
    )
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    return Run(
        config=config,
        dataset=dataset,
        model=model,
        loss_fn=bind_objective(config.objective, model),
        tx=make_optimizer(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
    )


def bind_objective(objective: ml_collections.ConfigDict, model: nn.Module) -> Callable:
    """`objective.name` with the other fields bound -> `loss_fn(params, batch, rng, *, step)`."""
    fn = OBJECTIVES.get(objective.name)
    hparams = {k: v for k, v in objective.items() if k != "name"}
    try:
        inspect.signature(fn).bind(None, None, None, model=model, step=0, **hparams)
    except TypeError as e:
        allowed = [
            p
            for p in inspect.signature(fn).parameters
            if p not in ("params", "batch", "rng", "model", "step")
        ]
        raise UserError(
            f"objective {objective.name!r}: {e}; its hyperparameters are "
            f"{', '.join(allowed) or 'none'}"
        ) from None
    return functools.partial(fn, model=model, **hparams)


def validate(config: ml_collections.ConfigDict) -> None:
    """Range checks the type system of ConfigDict cannot express."""
    for name in POSITIVE_FIELDS:
        value = functools.reduce(lambda c, k: c[k], name.split("."), config)
        if value <= 0:
            raise UserError(f"config field {name!r} must be positive, got {value}")
    if config.data_sampling not in SAMPLING_MODES:
        raise UserError(
            f"config field 'data_sampling' must be one of {', '.join(SAMPLING_MODES)}, "
            f"got {config.data_sampling!r}"
        )
    if not 0 <= config.seed < 2**32:
        raise UserError(f"config field 'seed' must be in [0, 2**32), got {config.seed}")
    if config.num_steps < 0:
        raise UserError(f"config field 'num_steps' must be >= 0, got {config.num_steps}")
    if config.optimizer.learning_rate <= 0:
        raise UserError(
            "config field 'optimizer.learning_rate' must be positive, "
            f"got {config.optimizer.learning_rate}"
        )
