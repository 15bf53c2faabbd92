"""Populations: members of one config structure (differing in seed, numeric objective
hyperparameters and optimizer values) trained by one step for all of them, placed on a
`("pop", "data")` mesh, and evaluated by one vmapped call."""

import dataclasses
import functools
import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from flax import struct
from flax.core import FrozenDict
from jax.sharding import Mesh

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.train import parallel
from disentax.train.build import build
from disentax.train.optimizer import VALUE_FIELDS, make_optimizer
from disentax.train.state import TrainState
from disentax.train.task import RunKeys, Task

STRATEGIES = ("auto", "vmap", "loop")


@struct.dataclass
class PopulationState:
    """`members`: a `TrainState` whose leaves are stacked on a leading member axis `[M, ...]`;
    `alive` `[M]`: False once a member's loss, a metric or its gradient went NaN/Inf (the member
    is frozen at its last finite state and the others carry on)."""

    members: TrainState
    alive: jax.Array


def optimizer_groups(config: ml_collections.ConfigDict) -> list[str]:
    """The config's optimizer groups: `optimizer` (player "model") and each `<player>_optimizer`."""
    return [
        k
        for k, v in config.items()
        if (k == "optimizer" or k.endswith("_optimizer"))
        and isinstance(v, ml_collections.ConfigDict)
    ]


def candidate_fields(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    """The fields a population may vary besides the seed: the objective's hyperparameters (by
    name, `beta`) and each optimizer group's numeric values (dotted, `optimizer.learning_rate`)."""
    names = [n for n in config.get("objective", {}) if n != "name"]
    for g in optimizer_groups(config):
        names += [f"{g}.{f}" for f in VALUE_FIELDS if f in config[g]]
    return tuple(names)


def field_value(config: ml_collections.ConfigDict, name: str):
    """A candidate field's value: `beta` is `objective.beta`, a dotted name is itself."""
    if "." in name:
        group, field = name.split(".")
        return config[group].get(field)
    return config.get("objective", {}).get(name)


def structure(config: ml_collections.ConfigDict, varying: tuple[str, ...] = ()) -> str:
    """The config as JSON without its seed and the fields in `varying` (`candidate_fields`
    names): members with equal structure share one compiled step. A varying weight decay keeps
    whether it is positive, since that picks the optimizer's form (AdamW or Adam)."""
    c = config_lib.from_json(config_lib.to_json(config))
    del c.seed
    for name in varying:
        if "." not in name:
            del c.objective[name]
        else:
            group, field = name.split(".")
            if field == "weight_decay":
                c[group][field] = float(c[group][field] > 0)
            else:
                del c[group][field]
    return config_lib.to_json(c)


def varying_hparams(configs) -> tuple[str, ...]:
    """The numeric candidate fields (`candidate_fields`) whose values differ between `configs`."""
    names = set().union(*(candidate_fields(c) for c in configs))

    def numeric(value) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    return tuple(
        sorted(
            n
            for n in names
            if all(numeric(field_value(c, n)) for c in configs)
            and len({field_value(c, n) for c in configs}) > 1
        )
    )


def group(configs) -> list[list[int]]:
    """Member indices grouped into as few populations as possible: members whose configs differ
    only in seed, numeric objective hyperparameters (of the same objective) and optimizer values
    (learning rate, betas, eps, weight decay among positive or among zero values) share one."""
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault(structure(c, candidate_fields(c)), []).append(i)
    return list(groups.values())


def default_strategy() -> str:
    """vmap on accelerators; on XLA:CPU vmapped convolutions are slower than a loop of the
    single-model step (DESIGN, stack facts), so the loop."""
    return "loop" if jax.default_backend() == "cpu" else "vmap"


@dataclasses.dataclass(frozen=True)
class Population:
    """M members sharing `run` (member 0's model, objective, optimizer form and dataset).

    Member m trains exactly as `build(configs[m])` alone would: its own seed's keys (init, train,
    data), its objective hyperparameters and optimizer values, the varying ones (`hparams`,
    `varying_hparams` names) passed to the step as arrays `[M]`. `strategy` "vmap" runs one
    `jax.vmap`-ed step; "loop" the single-member step on one member after another (`lax.map`
    inside one jitted program: no per-member dispatch, each member's arrays sliced out, the
    results stacked anew, so the state is held twice during a step); "auto" picks per backend
    (`default_strategy`).

    Placement: `mesh` has axes `("pop", "data")` (`parallel.population_mesh`); the members'
    states are split over `pop`, each member's batch over `data`, the `alive` flags, the
    hyperparameter arrays and the step's metrics are replicated. The default spreads the
    members over as many devices as divide their number (`parallel.default_pop_axis`) under
    "vmap", and gives every device to the batch under "loop" (one member at a time).
    """

    configs: tuple
    run: Task
    hparams: dict
    keys: tuple
    strategy: str
    mesh: Mesh

    @classmethod
    def create(cls, configs, strategy: str = "auto", mesh: Mesh | None = None) -> "Population":
        configs = tuple(configs)
        if not configs:
            raise UserError("a population needs at least one member config")
        if strategy not in STRATEGIES:
            raise UserError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        varying = varying_hparams(configs)
        reference = structure(configs[0], varying)
        for i, c in enumerate(configs[1:], 1):
            if structure(c, varying) != reference:
                fields = config_lib.differing_fields(configs[0], c, ("seed",))
                raise UserError(
                    f"member {i} differs from member 0 in {', '.join(fields[:5])}, which a "
                    "population cannot vary (only seed, numeric objective hyperparameters and "
                    "optimizer values); use population.group(configs) to split them"
                )
        run = build(configs[0])
        for c in configs[1:]:  # each member's own range checks
            run.check_member(c)
        strategy = default_strategy() if strategy == "auto" else strategy
        if mesh is None:
            devices = len(jax.devices())
            pop = parallel.default_pop_axis(len(configs), devices) if strategy == "vmap" else 1
            mesh = parallel.population_mesh(pop)
        if tuple(mesh.axis_names) != ("pop", "data"):
            raise UserError(
                f"a population's mesh needs the axes ('pop', 'data'), got {mesh.axis_names}"
            )
        parallel.check_population_placement(len(configs), configs[0].batch_size, mesh)
        values = {
            n: jnp.asarray([field_value(c, n) for c in configs], jnp.float32) for n in varying
        }
        return cls(
            configs=configs,
            run=run,
            hparams=jax.device_put(values, parallel.replicated(mesh)),
            keys=tuple(RunKeys.from_seed(c.seed) for c in configs),
            strategy=strategy,
            mesh=mesh,
        )

    @property
    def size(self) -> int:
        return len(self.configs)

    def init_state(self) -> PopulationState:
        """Each member's fresh state (the task's `init_state` with its seed), stacked, placed."""
        init = jax.vmap(self.run.init_member)
        members = jax.jit(init, out_shardings=parallel.member_sharded(self.mesh))(
            jnp.stack([k.init for k in self.keys]), jnp.stack([k.train for k in self.keys])
        )
        alive = jax.device_put(jnp.ones(self.size, bool), parallel.replicated(self.mesh))
        return PopulationState(members=members, alive=alive)

    def member_tx(self, values: dict):
        """A member's optimizer(s) with its varying optimizer values `values`
        (`{"optimizer.learning_rate": scalar, ...}`), in the form of `run.tx`."""
        config, groups = self.run.config, {}
        for name, value in values.items():
            group_name, field = name.split(".")
            groups.setdefault(group_name, {})[field] = value
        if self.run.objective is None:
            return self.run.optimizer(**groups["optimizer"])
        txs = dict(self.run.tx)
        for group_name, fields in groups.items():
            player = "model" if group_name == "optimizer" else group_name.removesuffix("_optimizer")
            group_config = ml_collections.ConfigDict({"optimizer": config[group_name]})
            txs[player] = make_optimizer(group_config, **fields)
        return FrozenDict(txs)

    def member_step(self, state: TrainState, alive, batch, hparams):
        """One member's step with its varying hyperparameters `hparams` (scalars); a non-finite
        step freezes the member (`alive` False) at its previous state."""
        objective_values = {k: v for k, v in hparams.items() if "." not in k}
        optimizer_values = {k: v for k, v in hparams.items() if "." in k}
        tx = state.tx
        if optimizer_values:  # the member's optimizer, inside this trace only
            state = state.replace(tx=self.member_tx(optimizer_values))
        new, metrics = self.run.member_step(state, batch, objective_values)
        new, state = new.replace(tx=tx), state.replace(tx=tx)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in metrics.values()]))
        keep = alive & finite
        new = jax.tree.map(lambda n, o: jnp.where(keep, n, o), new, state)
        return new, keep, metrics

    @functools.cached_property
    def step_fn(self):
        """(PopulationState, batches with leading axis M) -> (PopulationState, metrics `[M]`)."""
        members = parallel.member_sharded(self.mesh)
        batches = parallel.member_batch_sharded(self.mesh, self.batches_per_step)
        replicated = parallel.replicated(self.mesh)
        if self.strategy == "vmap":
            per_member = jax.vmap(self.member_step)
        else:

            def per_member(*args):
                return jax.lax.map(lambda member_args: self.member_step(*member_args), args)

        step = jax.jit(
            per_member,
            in_shardings=(members, replicated, batches, replicated),
            out_shardings=(members, replicated, replicated),
            donate_argnums=(0,),
        )

        def population_step(pop: PopulationState, batches):
            members, alive, metrics = step(pop.members, pop.alive, batches, self.hparams)
            return PopulationState(members, alive), metrics

        return population_step

    @property
    def batches_per_step(self) -> int:
        """Batches one step reads (a `MultiPlayer` objective's, e.g. a GAN's critic updates)."""
        return self.run.batches_per_step

    @functools.cached_property
    def batch_fn(self):
        """step -> each member's batch of that step (what its single-model run would read),
        stacked `[M, B, ...]` (`[M, n, B, ...]` for n = `batches_per_step` > 1) and placed
        (members over `pop`, batch over `data`); rendered in one vmapped jit of the task's
        `batch(key, step)` when that gives every batch (`Task.pure_batches`: procedural i.i.d.
        images, any task whose data is a function of its key), else stacked from the members'
        own `batch_fn`s."""
        run = self.run
        sharding = parallel.member_batch_sharded(self.mesh, self.batches_per_step)
        if run.pure_batches:
            keys = jnp.stack([k.data for k in self.keys])

            @functools.partial(jax.jit, out_shardings=sharding)
            def batches(step):
                return jax.vmap(lambda key: run.batch(key, step))(keys)

            return batches
        member_runs = [build(c) for c in self.configs]
        return lambda step: jax.device_put(
            jax.tree.map(lambda *xs: jnp.stack(xs), *(r.batch_fn(step) for r in member_runs)),
            sharding,
        )

    def member(self, pop: PopulationState, m: int) -> TrainState:
        """Member m's state, as its single-model run holds it."""
        return jax.tree.map(lambda x: x[m], pop.members)

    def describe(self) -> list[dict]:
        """Per member: index, model, objective, dataset, seed and the varying hyperparameters
        (objective ones by name, optimizer ones dotted: `optimizer.learning_rate`)."""
        return [
            {
                "member": m,
                **{k: c[k] for k in ("task", "model") if isinstance(c.get(k), str)},
                **({"objective": c.objective.name} if "name" in c.get("objective", {}) else {}),
                **({"dataset": c.dataset} if "dataset" in c else {}),
                "seed": c.seed,
                **{n: field_value(c, n) for n in self.hparams},
            }
            for m, c in enumerate(self.configs)
        ]

    def to_json(self) -> str:
        return json.dumps([json.loads(config_lib.to_json(c)) for c in self.configs], indent=1)


def non_finite_members(alive_before: np.ndarray, alive_after: np.ndarray) -> list[int]:
    """Members frozen by this step."""
    return [int(m) for m in np.flatnonzero(alive_before & ~alive_after)]
