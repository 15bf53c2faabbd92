"""The ground-truth VAE task (`Run`, the default task) and `build`: a config's task."""

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import ClassVar

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from disentax import config as config_lib
from disentax import data
from disentax.errors import UserError
from disentax.metrics import suite
from disentax.models import DISCRIMINATORS, MODELS, WithDiscriminator
from disentax.objectives import OBJECTIVES, PAIR_OBJECTIVES, MultiPlayer
from disentax.registry import call_registered
from disentax.train import evaluate as evaluation
from disentax.train import parallel
from disentax.train.evaluate import parse_representations
from disentax.train.optimizer import make_optimizer
from disentax.train.task import RunKeys, Task, task_module, validate_core

POSITIVE_FIELDS = (
    "num_latents",
    "eval.num_samples",
    "eval.num_test_samples",
    "eval.batch_size",
    "eval.num_bins",
    "eval.num_images",
    "eval.traversal_steps",
)


OPTIMIZER_FIELDS = ("learning_rate", "b1", "b2", "eps", "weight_decay", "decay_pattern")
SAMPLING_MODES = ("iid", "epochs")  # i.i.d. factors (disentanglement_lib) or shuffled epochs

__all__ = ["Run", "RunKeys", "build"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Run(Task):
    """The ground-truth VAE task: a `MODELS` model on `dataset`'s images, an `OBJECTIVES` loss,
    evaluated by the disentanglement metrics of `config.eval` and drawn (traversals,
    reconstructions, heatmaps); batches rendered on the device or read from a stored dataset."""

    dataset: data.GroundTruthDataset

    unit: ClassVar[str] = "images"

    def example_inputs(self) -> tuple[jax.Array]:
        return (jnp.zeros((1, *self.dataset.observation_shape), jnp.float32),)

    def batch(self, key: jax.Array, step) -> dict:
        """The procedural i.i.d. batch of `step` (`data.procedural_step_batch`), n =
        `batches_per_step` stacked; other data is read by `batch_fn` (`pure_batches` False)."""
        return data.procedural_step_batch(
            self.dataset, key, step, self.config.batch_size, self.batches_per_step
        )

    @property
    def pure_batches(self) -> bool:
        return (
            data.is_procedural(self.dataset)
            and self.config.data_sampling == "iid"
            and self.config.get("data_pairs_k") is None
        )

    @property
    def images_per_step(self) -> int:
        """Images one step consumes: batch_size × the objective's `batches_per_step` × 2 for
        weakly-supervised pairs (`perf/images_per_s` = steps/s × this)."""
        pairs = 1 if self.config.get("data_pairs_k") is None else 2
        return self.config.batch_size * self.batches_per_step * pairs

    @property
    def examples_per_step(self) -> int:
        return self.images_per_step

    @functools.cached_property
    def batch_fn(self) -> Callable[[int], dict]:
        """step -> the global batch of that step, sharded over `data`: rendered on the device for
        procedural datasets with i.i.d. sampling, gathered on the host otherwise. A `MultiPlayer`
        with `batches_per_step` n > 1 gets n batches stacked `[n, B, ...]` (`stacked_batches`).

        With `config.data_pairs_k` set (an int: k in 1..K-1, or -1 for k random per pair), the
        batches are weakly-supervised pairs (`data.pairs`, dynamics `config.data_pairs_dynamics`,
        default "exact"), i.i.d. only; the pair objectives (Ada-GVAE, Ada-ML-VAE) require it."""
        sharding = parallel.batch_sharded(self.mesh)
        pairs_k = self.config.get("data_pairs_k")
        if pairs_k is None and self.config.objective.name in PAIR_OBJECTIVES:
            raise UserError(
                f"objective {self.config.objective.name!r} trains on pairs: set config field "
                "'data_pairs_k' (k in 1..K-1 factors changed per pair, or -1 for random k)"
            )
        if pairs_k is not None:
            if self.config.data_sampling != "iid":
                raise UserError(
                    "config field 'data_pairs_k' needs data_sampling 'iid', "
                    f"got {self.config.data_sampling!r}"
                )
            pair_batches = (
                data.procedural_pair_batches
                if data.is_procedural(self.dataset)
                else data.stored_pair_batches
            )
            return pair_batches(
                self.dataset,
                self.config.batch_size,
                self.keys.data,
                pairs_k,
                self.config.get("data_pairs_dynamics", "exact"),
                sharding,
            )
        if self.batches_per_step > 1:
            return stacked_batches(self, self.batches_per_step)
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

    def check_metric_names(self, names):
        return None if names is None else suite.parse_names(names)

    def held_out_losses(self, params, key: jax.Array, num_batches: int = 4) -> dict[str, float]:
        return evaluation.held_out_losses(self, params, key, num_batches)

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        return evaluation.metric_scores(self, params, key)

    def evaluate(self, state, workdir, train_metrics=None, metric_names=None, writer=None):
        return evaluation.evaluate(self, state, workdir, train_metrics, metric_names, writer)

    def periodic_eval(self, state, step: int, workdir, writer) -> None:
        """`eval.metrics` and, with a `workdir`, the pictures, on `fold_in(keys.eval, step)`."""
        key = jax.random.fold_in(self.keys.eval, step)
        scores, outputs = evaluation.metric_results(self, state.params, key)
        writer.write(step, scores)
        if workdir is not None and jax.process_index() == 0:
            evaluation.pictures(self, state.params, key, workdir, outputs, writer, step)

    def evaluate_members(self, population, pop, names=None, key=None) -> list[dict]:
        return evaluation.evaluate_population(self, population, pop, names, key)

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)
        if self.objective is None:
            make_optimizer(config)
        else:
            player_optimizers(config, self.objective)


def stacked_batches(run: Run, n: int) -> Callable[[int], dict]:
    """step -> `n` batches stacked `[n, B, ...]` (a `MultiPlayer` with `batches_per_step` n).

    Procedural i.i.d. data: batch i of step k is rendered from `fold_in(fold_in(data key, k), i)`
    in one jit; stored data (or epochs): batch i of step k is the stored pipeline's batch
    n·k + i, so epochs are read in order."""
    config, sharding = run.config, parallel.stacked_sharded(run.mesh)
    if data.is_procedural(run.dataset) and config.data_sampling == "iid":
        return jax.jit(lambda step: run.batch(run.keys.data, step), out_shardings=sharding)
    single = data.stored_batches(
        run.dataset,
        config.batch_size,
        config.seed,
        mode=config.data_sampling,
        sharding=parallel.batch_sharded(run.mesh),
    )
    stack = jax.jit(
        lambda *batches: jax.tree.map(lambda *x: jnp.stack(x), *batches), out_shardings=sharding
    )
    return lambda step: stack(*(single(n * step + i) for i in range(n)))


def dataset_options(config: ml_collections.ConfigDict) -> dict:
    """The keyword options `config.dataset_options` passes to the dataset (none in configs
    written before the field existed)."""
    options = config.get("dataset_options")
    return {} if options is None else options.to_dict()


def build(config: ml_collections.ConfigDict) -> Task:
    """The task of `config`, after importing the modules that register its components
    (`config.components`): `config.task`'s `build(config)` (`task.task_module`), or without that
    field the ground-truth VAE task (`build_vae`)."""
    config_lib.import_components(config)
    if config.get("task") is not None:
        return task_module(config).build(config)
    return build_vae(config)


def build_vae(config: ml_collections.ConfigDict) -> Run:
    """The VAE task's parts from `config`: dataset, model, bound loss, optimizer, mesh, keys."""
    validate(config)
    dataset = data.get(config.dataset, **dataset_options(config))
    height, width, channels = dataset.observation_shape
    model = call_registered(
        MODELS, config.model, num_latents=config.num_latents, channels=channels, image_size=height
    )
    objective = OBJECTIVES.get(config.objective.name)
    players = objective if isinstance(objective, MultiPlayer) else None
    if players is not None and players.discriminator:
        model = WithDiscriminator(model=model, discriminator=make_discriminator(config))
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    loss_fn = bind_objective(config.objective, model)
    check_model_fits_objective(config, dataset, model, loss_fn)
    return Run(
        config=config,
        dataset=dataset,
        model=model,
        objective_fn=objective,
        tx=make_optimizer(config) if players is None else player_optimizers(config, players),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        objective=players,
    )


def check_model_fits_objective(config, dataset, model: nn.Module, loss_fn: Callable) -> None:
    """Traces (does not compile) the loss on abstract params and a batch, so that an objective
    reading a latent the model lacks (a KL objective on a quantized latent: aux "logvar") is a
    one-line error naming both, not a traceback at the first step."""
    batch = {
        "image": jax.ShapeDtypeStruct((2, *dataset.observation_shape), jnp.float32),
        "factors": jax.ShapeDtypeStruct((2, len(dataset.factor_sizes)), jnp.int32),
    }
    key = jax.random.PRNGKey(0)
    params = jax.eval_shape(lambda x: model.init({"params": key}, x)["params"], batch["image"])
    try:
        jax.eval_shape(lambda p, b: loss_fn(p, b, key, step=0), params, batch)
    except KeyError as e:
        aux = jax.eval_shape(lambda p, x: model.apply({"params": p}, x)[1], params, batch["image"])
        raise UserError(
            f"objective {config.objective.name!r} needs the model output {e}, which model "
            f"{config.model!r} does not give (it gives {', '.join(sorted(aux))}); choose a model "
            "with that latent"
        ) from None
    except flax.errors.FlaxError as e:  # e.g. a sampled latent run without its RNG stream
        raise UserError(
            f"objective {config.objective.name!r} does not fit model {config.model!r}: "
            f"{str(e).splitlines()[0].split(' (https:')[0]}"
        ) from None


def make_discriminator(config: ml_collections.ConfigDict) -> nn.Module:
    """The discriminator named by `config.discriminator` (a `DISCRIMINATORS` name)."""
    if "discriminator" not in config:
        raise UserError(
            f"objective {config.objective.name!r} needs config field 'discriminator', one of "
            f"{', '.join(DISCRIMINATORS.names())} (the built-in config 'factor_vae' sets it)"
        )
    return call_registered(DISCRIMINATORS, config.discriminator)


def player_optimizers(
    config: ml_collections.ConfigDict, objective: MultiPlayer
) -> dict[str, optax.GradientTransformation]:
    """`{player: make_optimizer(...)}`: player "model" is optimised by `config.optimizer`, any
    other player p by `config.<p>_optimizer` (same fields; FactorVAE's discriminator:
    disentanglement_lib's Adam(1e-4, β1 0.5, β2 0.9, ε 1e-8))."""
    txs = {}
    for player in objective.players:
        field = "optimizer" if player == "model" else f"{player}_optimizer"
        missing = [k for k in OPTIMIZER_FIELDS if k not in config.get(field, {})]
        if missing:
            raise UserError(
                f"objective {config.objective.name!r} needs config field {field!r} with the "
                f"fields {', '.join(OPTIMIZER_FIELDS)} (missing {', '.join(missing)})"
            )
        if config[field].learning_rate <= 0:
            raise UserError(
                f"config field '{field}.learning_rate' must be positive, "
                f"got {config[field].learning_rate}"
            )
        txs[player] = make_optimizer(ml_collections.ConfigDict({"optimizer": config[field]}))
    return txs


def bind_objective(objective: ml_collections.ConfigDict, model: nn.Module) -> Callable:
    """`objective.name` with the other fields bound -> `loss_fn(params, batch, rng, *, step)`
    (a `MultiPlayer`'s `loss_fn`, which returns one loss per player)."""
    fn = OBJECTIVES.get(objective.name)
    if isinstance(fn, MultiPlayer):
        fn = fn.loss_fn
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
    """Range checks the type system of ConfigDict cannot express, all before any step runs: the
    core's (`task.validate_core`) and the VAE task's."""
    validate_core(config)
    for name in POSITIVE_FIELDS:
        value = functools.reduce(lambda c, k: c[k], name.split("."), config)
        if value <= 0:
            raise UserError(f"config field {name!r} must be positive, got {value}")
    if config.data_sampling not in SAMPLING_MODES:
        raise UserError(
            f"config field 'data_sampling' must be one of {', '.join(SAMPLING_MODES)}, "
            f"got {config.data_sampling!r}"
        )
    suite.parse_names(config.eval.metrics)
    parse_representations(config.eval.representations)
    if config.eval.traversal_range <= 0:
        raise UserError(
            "config field 'eval.traversal_range' must be positive (prior σ), "
            f"got {config.eval.traversal_range}"
        )
