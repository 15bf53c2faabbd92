"""Populations: members of one config structure (differing in seed and in numeric objective
hyperparameters) trained by one step for all of them and evaluated by one vmapped call."""

import dataclasses
import functools
import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from flax import struct

from disentax import config as config_lib
from disentax import data
from disentax.errors import UserError
from disentax.objectives import OBJECTIVES, MultiPlayer
from disentax.train.build import Run, RunKeys, build
from disentax.train.state import TrainState
from disentax.train.step import multi_player_step, train_step

STRATEGIES = ("auto", "vmap", "loop")


@struct.dataclass
class PopulationState:
    """`members`: a `TrainState` whose leaves are stacked on a leading member axis `[M, ...]`;
    `alive` `[M]`: False once a member's loss, a metric or its gradient went NaN/Inf (the member
    is frozen at its last finite state and the others carry on)."""

    members: TrainState
    alive: jax.Array


def structure(config: ml_collections.ConfigDict, varying: tuple[str, ...] = ()) -> str:
    """The config as JSON without its seed and the objective fields in `varying`: members with
    equal structure share one compiled step."""
    c = config_lib.from_json(config_lib.to_json(config))
    del c.seed
    for name in varying:
        del c.objective[name]
    return config_lib.to_json(c)


def varying_hparams(configs) -> tuple[str, ...]:
    """The numeric objective fields whose values differ between `configs`."""
    names = set().union(*(c.objective.keys() for c in configs)) - {"name"}
    return tuple(
        sorted(
            n
            for n in names
            if all(isinstance(c.objective.get(n), int | float) for c in configs)
            and len({c.objective[n] for c in configs}) > 1
        )
    )


def group(configs) -> list[list[int]]:
    """Member indices grouped into as few populations as possible: members whose configs differ
    only in seed and numeric objective hyperparameters (of the same objective) share one."""
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(configs):
        key = structure(c, tuple(n for n in c.objective if n != "name"))
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def default_strategy() -> str:
    """vmap on accelerators; on XLA:CPU vmapped convolutions are slower than a loop of the
    single-model step (DESIGN, stack facts), so the loop."""
    return "loop" if jax.default_backend() == "cpu" else "vmap"


@dataclasses.dataclass(frozen=True)
class Population:
    """M members sharing `run` (member 0's model, objective, optimizer and dataset).

    Member m trains exactly as `build(configs[m])` alone would: its own seed's keys (init, train,
    data) and its objective hyperparameters, the varying ones passed to the step as arrays `[M]`.
    `strategy` "vmap" runs one `jax.vmap`-ed step; "loop" one jitted single-member step called per
    member; "auto" picks per backend (`default_strategy`).
    """

    configs: tuple
    run: Run
    hparams: dict
    keys: tuple
    strategy: str

    @classmethod
    def create(cls, configs, strategy: str = "auto") -> "Population":
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
                    "population cannot vary (only seed and numeric objective hyperparameters); "
                    "use population.group(configs) to split them"
                )
        hparams = {n: jnp.asarray([c.objective[n] for c in configs], jnp.float32) for n in varying}
        return cls(
            configs=configs,
            run=build(configs[0]),
            hparams=hparams,
            keys=tuple(RunKeys.from_seed(c.seed) for c in configs),
            strategy=default_strategy() if strategy == "auto" else strategy,
        )

    @property
    def size(self) -> int:
        return len(self.configs)

    def init_state(self) -> PopulationState:
        """Each member's fresh state (as `Run.init_state` with its seed), stacked."""
        x = jnp.zeros((1, *self.run.dataset.observation_shape), jnp.float32)
        run = self.run

        def init(init_key, train_key):
            params = run.model.init({"params": init_key}, x)["params"]
            return TrainState.create(params, run.tx, train_key)

        members = jax.jit(jax.vmap(init))(
            jnp.stack([k.init for k in self.keys]), jnp.stack([k.train for k in self.keys])
        )
        return PopulationState(members=members, alive=jnp.ones(self.size, bool))

    def member_step(self, state: TrainState, alive, batch, hparams):
        """One member's step with its varying hyperparameters `hparams` (scalars); a non-finite
        step freezes the member (`alive` False) at its previous state."""
        fn = OBJECTIVES.get(self.run.config.objective.name)
        if isinstance(fn, MultiPlayer):
            fn = fn.loss_fn
        static = {
            k: v for k, v in self.run.config.objective.items() if k != "name" and k not in hparams
        }
        loss_fn = functools.partial(fn, model=self.run.model, **static, **hparams)
        if self.run.objective is None:
            new, metrics = train_step(state, batch, loss_fn=loss_fn)
        else:
            new, metrics = multi_player_step(
                state, batch, loss_fn=loss_fn, objective=self.run.objective
            )
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in metrics.values()]))
        keep = alive & finite
        new = jax.tree.map(lambda n, o: jnp.where(keep, n, o), new, state)
        return new, keep, metrics

    @functools.cached_property
    def step_fn(self):
        """(PopulationState, batches with leading axis M) -> (PopulationState, metrics `[M]`)."""
        if self.strategy == "vmap":
            step = jax.jit(jax.vmap(self.member_step), donate_argnums=(0,))

            def vmapped(pop: PopulationState, batches):
                members, alive, metrics = step(pop.members, pop.alive, batches, self.hparams)
                return PopulationState(members, alive), metrics

            return vmapped

        def member_in_place(members, alive, batches, hparams, m):
            take = functools.partial(jax.tree.map, lambda x: x[m])
            new, keep, metrics = self.member_step(
                take(members), alive[m], take(batches), take(hparams)
            )
            members = jax.tree.map(lambda x, n: x.at[m].set(n), members, new)
            return members, alive.at[m].set(keep), metrics

        step = jax.jit(member_in_place, donate_argnums=(0, 1))

        def looped(pop: PopulationState, batches):
            members, alive, outs = pop.members, pop.alive, []
            for m in range(self.size):
                members, alive, metrics = step(members, alive, batches, self.hparams, m)
                outs.append(metrics)
            return PopulationState(members, alive), jax.tree.map(lambda *xs: jnp.stack(xs), *outs)

        return looped

    @functools.cached_property
    def batch_fn(self):
        """step -> each member's batch of that step (what its single-model run would read),
        stacked `[M, B, ...]`; rendered in one vmapped jit for procedural i.i.d. data."""
        run = self.run
        if (
            data.is_procedural(run.dataset)
            and run.config.data_sampling == "iid"
            and run.config.get("data_pairs_k") is None
        ):
            keys = jnp.stack([k.data for k in self.keys])
            size = run.config.batch_size

            @jax.jit
            def batches(step):
                def one(key):
                    images, factors = data.sample_procedural(
                        run.dataset, jax.random.fold_in(key, step), size
                    )
                    return {"image": images, "factors": factors}

                return jax.vmap(one)(keys)

            return batches
        member_runs = [build(c) for c in self.configs]
        return lambda step: jax.tree.map(
            lambda *xs: jnp.stack(xs), *(r.batch_fn(step) for r in member_runs)
        )

    def member(self, pop: PopulationState, m: int) -> TrainState:
        """Member m's state, as its single-model run holds it."""
        return jax.tree.map(lambda x: x[m], pop.members)

    def describe(self) -> list[dict]:
        """Per member: index, model, objective, dataset, seed and the varying hyperparameters."""
        return [
            {
                "member": m,
                "model": c.model,
                "objective": c.objective.name,
                "dataset": c.dataset,
                "seed": c.seed,
                **{n: c.objective[n] for n in self.hparams},
            }
            for m, c in enumerate(self.configs)
        ]

    def to_json(self) -> str:
        return json.dumps([json.loads(config_lib.to_json(c)) for c in self.configs], indent=1)


def non_finite_members(alive_before: np.ndarray, alive_after: np.ndarray) -> list[int]:
    """Members frozen by this step."""
    return [int(m) for m in np.flatnonzero(alive_before & ~alive_after)]
