"""A population in a workdir: train with checkpoints and exact resume, evaluate every member in
one vmapped call, write the results table, export a member as a single-model run."""

import csv
import json
import logging
import pathlib

import jax
import numpy as np
from tqdm.auto import tqdm

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.train.checkpoint import Checkpointer
from disentax.train.lock import workdir_lock
from disentax.train.loop import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    announce_resume,
    checkpoint_differences,
    config_differences,
    config_record,
    record_check,
)
from disentax.train.population import Population, PopulationState, group, non_finite_members
from disentax.train.task import EVAL_SEED
from disentax.train.writer import ScalarWriter
from disentax.viz.sweep import plot_sweep

log = logging.getLogger(__name__)

MEMBERS_FILE = "population.json"


def train_population(
    configs, workdir: str | pathlib.Path, *, strategy: str = "auto", progress: bool = True
) -> list[dict]:
    """Trains the members `configs` (one structure, see `population.group`) as one population in
    `workdir`, resuming from its latest checkpoint, then evaluates them; returns one row per
    member (member, seed, varying hyperparameters, `alive`, final train metrics, eval metrics),
    also written to `results.json` and `results.csv`.

    Steps, logging and checkpoint intervals are member 0's. A member that goes NaN/Inf is frozen
    at its last finite state, reported in the log and in the `alive` column; the others go on.
    The population holds `workdir` (`lock.workdir_lock`) from start to end and stores its
    members' configs with each checkpoint, as a single run does.
    """
    workdir = pathlib.Path(workdir)
    with workdir_lock(workdir, "a sweep"):
        population = Population.create(configs, strategy)
        fresh = population.init_state()
        prepare(population, workdir, fresh)
        config = population.run.config
        checkpointer = Checkpointer(
            workdir / CHECKPOINT_DIR,
            max_to_keep=config.keep_checkpoints,
            async_save=config.async_checkpoints,
            config=config_record(population.configs),
        )
        writers = []
        last_metrics = {}
        try:
            pop = checkpointer.restore_latest(fresh, record_check(population.configs)) or fresh
            start = int(pop.members.step[0])
            announce_resume(start, config.num_steps, workdir)
            writers = [ScalarWriter(workdir / "members" / str(m)) for m in range(population.size)]
            for step in tqdm(
                range(start, config.num_steps),
                initial=start,
                total=config.num_steps,
                desc=f"population of {population.size}",
                disable=not progress,
            ):
                alive = np.asarray(pop.alive)
                pop, metrics = population.step_fn(pop, population.batch_fn(step))
                done = step + 1
                if done % config.log_every_steps == 0 or done == config.num_steps:
                    last_metrics = jax.device_get(metrics)
                    frozen = non_finite_members(alive, np.asarray(pop.alive))
                    if frozen:
                        log.warning("members %s went non-finite at step %d; frozen", frozen, done)
                    for m, writer in enumerate(writers):
                        writer.write(done, {f"train/{k}": v[m] for k, v in last_metrics.items()})
                if done % config.checkpoint_every_steps == 0 or done == config.num_steps:
                    checkpointer.save(done, pop)
            checkpointer.wait()
        finally:
            checkpointer.close()
            for writer in writers:
                writer.close()
        rows = population.describe()
        scores = evaluate_population(population, pop)
        for m, row in enumerate(rows):
            row["alive"] = bool(pop.alive[m])
            row.update({f"train/{k}": float(v[m]) for k, v in last_metrics.items()})
            row.update(scores[m])
        write_results(workdir, rows)
    return rows


def run_sweep(
    configs, workdir: str | pathlib.Path, *, strategy: str = "auto", progress: bool = True
) -> list[dict]:
    """Trains and evaluates any list of member configs: grouped into as few populations as
    their structures allow (`population.group`), one per `workdir/group_<g>` (the workdir itself
    when there is one group); the rows of all members, in the order given, also go to the
    top-level `results.json` / `results.csv`, and `plots/` (`viz.sweep.plot_sweep`). Every
    group's population is built (checked, not compiled) before the first trains, so a bad member
    of a later group is refused before any training."""
    workdir = pathlib.Path(workdir)
    groups = group(configs)
    for members in groups:
        Population.create([configs[i] for i in members], strategy)
    rows = [None] * len(configs)
    with workdir_lock(workdir, "a sweep"):
        for g, members in enumerate(groups):
            sub = workdir if len(groups) == 1 else workdir / f"group_{g}"
            group_rows = train_population(
                [configs[i] for i in members], sub, strategy=strategy, progress=progress
            )
            for i, row in zip(members, group_rows, strict=True):
                rest = {k: v for k, v in row.items() if k != "member"}
                rows[i] = {"member": i, "group": g, **rest}
        if len(groups) > 1:
            write_results(workdir, rows)
        plot_sweep(rows, workdir)
    return rows


def prepare(population: Population, workdir: pathlib.Path, like: PopulationState) -> None:
    """Creates `workdir` with `population.json`, or checks it holds this population, as
    `loop.prepare_workdir` checks a single run: by `population.json` or, with that file gone, by
    the configs its newest checkpoint stores (or its tree and shapes against `like`, the fresh
    state). Another population is refused before anything is written."""
    path = workdir / MEMBERS_FILE
    now = population.configs
    diffs = []
    if path.exists():
        before = [config_lib.from_json(json.dumps(c)) for c in json.loads(path.read_text())]
        diffs = config_differences(before, now)
    diffs = diffs or checkpoint_differences(workdir, like, now)
    if diffs:
        raise UserError(
            f"{workdir} holds another population (differs in {', '.join(diffs[:5])}); "
            "use another --workdir"
        )
    if jax.process_index() != 0:  # one host writes; all hosts checked the same files
        return
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(population.to_json() + "\n")


def evaluate_population(
    population: Population, pop: PopulationState, names=None, key: jax.Array | None = None
) -> list[dict]:
    """Each member's `eval/...` scores (the task's `evaluate_members`), all on one evaluation
    key `key` (default `PRNGKey(EVAL_SEED)`), so that a member's scores equal those of the same
    model trained alone and do not depend on which other members share its population."""
    key = jax.random.PRNGKey(EVAL_SEED) if key is None else key
    return population.run.evaluate_members(population, pop, names, key)


def write_results(workdir: pathlib.Path, rows: list[dict]) -> None:
    """`results.json` (a list of rows) and `results.csv` (one row per member, all columns)."""
    (workdir / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with (workdir / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)


def restore_population(workdir: str | pathlib.Path) -> tuple[Population, PopulationState]:
    """The population trained in `workdir` (its members' configs, strategy `loop`) and its state
    at the latest checkpoint; a one-line `UserError` when either is missing."""
    workdir = pathlib.Path(workdir)
    path = workdir / MEMBERS_FILE
    if not path.exists():
        raise UserError(f"{workdir} holds no population ({MEMBERS_FILE} is missing)")
    configs = [config_lib.from_json(json.dumps(c)) for c in json.loads(path.read_text())]
    population = Population.create(configs, "loop")
    with workdir_lock(workdir, "a restore", create=False):
        checkpointer = Checkpointer(workdir / CHECKPOINT_DIR, max_to_keep=1)
        try:
            pop = checkpointer.restore_latest(population.init_state(), record_check(configs))
        finally:
            checkpointer.close()
    if pop is None:
        raise UserError(f"{workdir / CHECKPOINT_DIR} holds no readable checkpoint")
    return population, pop


def export_member(workdir: str | pathlib.Path, member: int, destination: str | pathlib.Path):
    """Writes member `member` of the population in `workdir` as a single-model run directory
    (`config.json` + its latest checkpoint) that `train`/`evaluate_workdir` accept."""
    destination = pathlib.Path(destination)
    population, pop = restore_population(workdir)
    configs = population.configs
    if not 0 <= member < len(configs):
        raise UserError(f"member must be in 0..{len(configs) - 1}, got {member}")
    state = population.member(pop, member)
    with workdir_lock(destination, "an export"):
        (destination / CONFIG_FILE).write_text(config_lib.to_json(configs[member]) + "\n")
        out = Checkpointer(
            destination / CHECKPOINT_DIR,
            max_to_keep=1,
            async_save=False,
            config=config_record([configs[member]]),
        )
        try:
            out.save(int(state.step), state)
        finally:
            out.close()
    return destination
