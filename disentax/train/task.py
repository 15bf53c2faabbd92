"""A task: what the training core (loop, checkpoints, populations, sweeps, reports) trains.

The core reaches a task through these parts only:

    init_member(init_key, train_key) -> TrainState     pure: a fresh state (vmapped by populations)
    bound_loss(values) -> loss_fn(params, batch, rng, *, step)
                                                       the objective, its hyperparameters bound;
                                                       `values` replace some by (traced) scalars
    batch(key, step) -> batch                          pure: the batch of step k from a data key
    scores(params, key) -> {"eval/<name>": float}      the evaluation of one model
    optimizer(**values) -> optax transformation        `tx`, some values (a population's) replaced

and what `Task` derives from them: `init_state`, `step_fn` and `batch_fn` jitted and placed on the
`("data",)` mesh, `evaluate` (held-out losses and scores into `metrics.json`), `periodic_eval`,
`evaluate_members` (a population's rows). A task subclasses `Task` (a frozen dataclass), defines
`example_inputs`, `batch` and `scores` (and `optimizer` when its `tx` is not the default), and
overrides the derived parts where it knows better (the ground-truth VAE task, `build.Run`, reads
stored datasets and draws pictures).

A config names its task by module, as big_vision names its models: `config.task =
"disentax.tasks.regression"` (a bare name, `"regression"`, is looked up in `disentax.tasks`); the
module's `build(config) -> Task` builds it. Without the field the task is the ground-truth VAE.
Every task's config has the core's fields (`CORE_POSITIVE_FIELDS`, `seed`, `num_steps`,
`async_checkpoints`, `optimizer`, `eval.every_steps`); `config.objective` (optional) holds the
loss's hyperparameters, which a population may vary.
"""

import dataclasses
import functools
import importlib
import json
import pathlib
from collections.abc import Callable
from typing import Any, ClassVar

import flax.linen as nn
import jax
import ml_collections
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding

from disentax.errors import UserError
from disentax.objectives import MultiPlayer
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.state import TrainState
from disentax.train.step import multi_player_step, train_step

TASKS_PACKAGE = "disentax.tasks"
CORE_POSITIVE_FIELDS = (
    "batch_size",
    "log_every_steps",
    "checkpoint_every_steps",
    "keep_checkpoints",
)
# disentanglement_lib evaluates every model with `evaluation.random_seed = 0`
# (reference/anchors-core.md, metrics): the same samples for all models, whatever their seed.
EVAL_SEED = 0
METRICS_FILE = "metrics.json"


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
class Task:
    """A model, its objective and its data, trained by the core (see the module docstring).

    `objective_fn(params, batch, rng, *, model, step, **hyperparameters) -> (loss, metrics)` is
    the unbound loss (a `MultiPlayer`'s `loss_fn` returns one loss per player; then `objective`
    is the `MultiPlayer` and `tx` a `{player: transformation}` dict); the hyperparameters are
    `config.objective` without its `name`.
    """

    config: ml_collections.ConfigDict
    model: nn.Module
    objective_fn: Callable
    tx: optax.GradientTransformation | dict
    mesh: Mesh
    keys: RunKeys
    objective: MultiPlayer | None = None

    unit: ClassVar[str] = "examples"  # what a step consumes: `perf/<unit>_per_s`

    # --- what a task defines

    def example_inputs(self) -> tuple:
        """The model's positional inputs at batch size 1, for `model.init`."""
        raise NotImplementedError

    def batch(self, key: jax.Array, step) -> Any:
        """The batch of `step` (traceable) drawn from the data key `key`."""
        raise NotImplementedError

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """`{"eval/<name>": value}`: the task's evaluation of `params` on evaluation key `key`."""
        return {}

    def optimizer(self, **values) -> optax.GradientTransformation:
        """`tx` with the `optimizer.*` fields `values` (`VALUE_FIELDS` names) replaced by scalars
        or traced arrays: a population member's own learning rate. The default is the
        library's `make_optimizer(config)`; a task whose `tx` is another transformation
        overrides this, so that a population varying its values keeps that transformation."""
        return make_optimizer(self.config, **values)

    # --- derived: one model

    @property
    def hparams(self) -> dict:
        """The objective's hyperparameters: `config.objective` without `name`."""
        return {k: v for k, v in self.config.get("objective", {}).items() if k != "name"}

    def bound_loss(self, values: dict | None = None) -> Callable:
        """`loss_fn(params, batch, rng, *, step)`: the objective with the model and
        hyperparameters bound, `values` (`{name: scalar or traced array}`) replacing some."""
        fn = self.objective.loss_fn if self.objective is not None else self.objective_fn
        return functools.partial(fn, model=self.model, **{**self.hparams, **(values or {})})

    @functools.cached_property
    def loss_fn(self) -> Callable:
        return self.bound_loss()

    def init_member(self, init_key: jax.Array, train_key: jax.Array) -> TrainState:
        """A fresh state (pure): params from `init_key`, step RNG base `train_key`."""
        params = self.model.init({"params": init_key}, *self.example_inputs())["params"]
        return TrainState.create(params, self.tx, train_key)

    def init_state(self) -> TrainState:
        """Fresh state, replicated over the mesh."""
        init = jax.jit(self.init_member, out_shardings=parallel.replicated(self.mesh))
        return init(self.keys.init, self.keys.train)

    def member_step(self, state: TrainState, batch, values: dict | None = None):
        """`train_step` (`multi_player_step` for a `MultiPlayer`) with hyperparameters `values`."""
        loss_fn = self.bound_loss(values)
        if self.objective is None:
            return train_step(state, batch, loss_fn=loss_fn)
        return multi_player_step(state, batch, loss_fn=loss_fn, objective=self.objective)

    @property
    def batches_per_step(self) -> int:
        """Batches one step reads (a `MultiPlayer`'s, e.g. a GAN's critic updates), stacked."""
        return 1 if self.objective is None else self.objective.batches_per_step

    @property
    def batch_sharding(self) -> NamedSharding:
        """A step's batch: its batch axis split over `data` (the second axis when stacked)."""
        if self.batches_per_step > 1:
            return parallel.stacked_sharded(self.mesh)
        return parallel.batch_sharded(self.mesh)

    @functools.cached_property
    def step_fn(self) -> Callable:
        """`member_step` jitted on the mesh: state replicated and donated, batch split on `data`."""
        return jax.jit(
            lambda state, batch: self.member_step(state, batch),
            in_shardings=(parallel.replicated(self.mesh), self.batch_sharding),
            out_shardings=parallel.replicated(self.mesh),
            donate_argnums=0,
        )

    @property
    def pure_batches(self) -> bool:
        """Whether `batch(key, step)` gives every batch (so populations render them vmapped)."""
        return True

    @functools.cached_property
    def batch_fn(self) -> Callable[[int], Any]:
        """step -> the global batch of that step, `batch(keys.data, step)` placed on the mesh."""
        return jax.jit(
            lambda step: self.batch(self.keys.data, step), out_shardings=self.batch_sharding
        )

    @property
    def examples_per_step(self) -> int:
        return self.config.batch_size * self.batches_per_step

    # --- derived: evaluation

    def check_metric_names(self, names) -> Any:
        """`evaluate --metrics` names, checked; this task has no selectable metrics."""
        if names is not None:
            raise UserError(
                f"task {self.config.get('task')!r} has no selectable metrics; drop --metrics"
            )
        return None

    def held_out_losses(self, params, key: jax.Array, num_batches: int = 4) -> dict[str, float]:
        """The objective's metrics averaged over `num_batches` fresh batches `batch(key_i, 0)`
        (the first of a step's stacked batches when a `MultiPlayer` reads several)."""
        losses = jax.jit(lambda p, batch, rng: self.loss_fn(p, batch, rng, step=0)[1])
        values = []
        for i in range(num_batches):
            data_key, loss_key = jax.random.split(jax.random.fold_in(key, i))
            batch = self.batch(data_key, 0)
            if self.batches_per_step > 1:
                batch = jax.tree.map(lambda x: x[0], batch)
            values.append(losses(params, batch, loss_key))
        values = jax.device_get(values)
        return {k: float(np.mean([v[k] for v in values])) for k in values[0]}

    def evaluate(
        self,
        state: TrainState,
        workdir: pathlib.Path,
        train_metrics: dict | None = None,
        metric_names=None,
        writer=None,
    ) -> dict[str, float]:
        """Writes `metrics.json`: the step, the final `train/` means, `eval/` held-out losses on
        the run's eval stream and `scores` on `PRNGKey(EVAL_SEED)` (as `evaluate_members` scores a
        population's, so a run and the same model in a sweep get the same scores)."""
        self.check_metric_names(metric_names)
        loss_key = jax.random.fold_in(self.keys.eval, 1)
        results = {"step": int(state.step), **(train_metrics or {})}
        losses = self.held_out_losses(state.params, loss_key)
        results.update({f"eval/{k}": v for k, v in losses.items()})
        results.update(self.scores(state.params, jax.random.PRNGKey(EVAL_SEED)))
        write_metrics(workdir, results)
        return results

    def periodic_eval(self, state: TrainState, step: int, workdir, writer) -> None:
        """`eval.every_steps`: the `scores` on `fold_in(keys.eval, step)`, to the writer."""
        writer.write(step, self.scores(state.params, jax.random.fold_in(self.keys.eval, step)))

    def evaluate_members(self, population, pop, names=None, key=None) -> list[dict]:
        """Each member's `scores`, all on one key (default `PRNGKey(EVAL_SEED)`)."""
        self.check_metric_names(names)
        key = jax.random.PRNGKey(EVAL_SEED) if key is None else key
        return [self.scores(population.member(pop, m).params, key) for m in range(population.size)]

    # --- config checks

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        """A population member's own range checks (member 0's were made when building)."""
        validate_core(config)
        make_optimizer(config)


def write_metrics(workdir: pathlib.Path, results: dict) -> None:
    """`workdir/metrics.json` (process 0 writes)."""
    if jax.process_index() == 0:
        (workdir / METRICS_FILE).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def get_field(config: ml_collections.ConfigDict, name: str):
    """The value of the dotted field `name`; a one-line error naming it when it is missing."""
    value = config
    for part in name.split("."):
        if part not in value:
            raise UserError(f"config field {name!r} is missing (every task's config needs it)")
        value = value[part]
    return value


def require_positive(config: ml_collections.ConfigDict, names) -> None:
    """A one-line error naming the first of the dotted fields `names` that is not positive."""
    for name in names:
        value = get_field(config, name)
        if value <= 0:
            raise UserError(f"config field {name!r} must be positive, got {value}")


def validate_core(config: ml_collections.ConfigDict) -> None:
    """The range checks of the fields the core reads, for any task, before any step runs."""
    require_positive(config, CORE_POSITIVE_FIELDS)
    if not 0 <= get_field(config, "seed") < 2**32:
        raise UserError(f"config field 'seed' must be in [0, 2**32), got {config.seed}")
    if get_field(config, "num_steps") < 0:
        raise UserError(f"config field 'num_steps' must be >= 0, got {config.num_steps}")
    if get_field(config, "eval.every_steps") < 0:
        raise UserError(
            f"config field 'eval.every_steps' must be >= 0 (0: at the end only), "
            f"got {config.eval.every_steps}"
        )
    if get_field(config, "optimizer.learning_rate") <= 0:
        raise UserError(
            "config field 'optimizer.learning_rate' must be positive, "
            f"got {config.optimizer.learning_rate}"
        )


def task_module(config: ml_collections.ConfigDict):
    """The module `config.task` names (a bare name is in `disentax.tasks`), holding `build`."""
    name = config.task
    path = name if "." in name else f"{TASKS_PACKAGE}.{name}"
    try:
        module = importlib.import_module(path)
    except ModuleNotFoundError as e:
        if e.name is not None and path.startswith(e.name):
            raise UserError(
                f"config field 'task' names {name!r}: no module {path!r}; name a module "
                f"defining build(config) (built in: {', '.join(builtin_tasks())})"
            ) from None
        raise UserError(f"config field 'task': module {path!r} does not import: {e}") from None
    except Exception as e:
        raise UserError(
            f"config field 'task': module {path!r} does not import: {type(e).__name__}: {e}"
        ) from None
    if not callable(getattr(module, "build", None)):
        raise UserError(f"config field 'task': module {path!r} defines no build(config)")
    return module


def builtin_tasks() -> list[str]:
    """The task modules in `disentax.tasks`."""
    package = importlib.import_module(TASKS_PACKAGE)
    folder = pathlib.Path(package.__file__).parent
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))
