"""Training loop: sharded jitted steps, batched metric fetches, async checkpoints, exact resume."""

import contextlib
import json
import math
import pathlib
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils
from tqdm.auto import tqdm

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.metrics import suite
from disentax.train.build import build
from disentax.train.checkpoint import Checkpointer, ConfigCheck
from disentax.train.lock import LOCK_FILE, workdir_lock
from disentax.train.state import TrainState
from disentax.train.task import Task
from disentax.train.writer import ScalarWriter

# Fields a run may change between restarts: they do not change the numbers it computes.
RESUMABLE_FIELDS = (
    "num_steps",
    "log_every_steps",
    "checkpoint_every_steps",
    "keep_checkpoints",
    "async_checkpoints",
)
CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"

Hook = Callable[[int], None]


class TrainingDiverged(UserError):
    """A loss term or the gradient norm became NaN/Inf; the state kept is the last good one."""


def config_differences(before, now) -> list[str]:
    """The fields (dotted names) in which the member configs `before` of a saved run differ from
    `now`, beyond `RESUMABLE_FIELDS` and `eval.*`: a run resumes only when this is empty. A
    single run is one member."""
    if len(before) != len(now):
        return [f"the number of members ({len(before)} saved, {len(now)} here)"]
    names = []
    for a, b in zip(before, now, strict=True):
        for n in config_lib.differing_fields(a, b, RESUMABLE_FIELDS):
            if not n.startswith("eval.") and n not in names:
                names.append(n)
    return names


def config_record(configs) -> dict:
    """The record of a run's member configs that each of its checkpoints stores."""
    return {"configs": [json.loads(config_lib.to_json(c)) for c in configs]}


def record_check(configs) -> ConfigCheck:
    """Compares a checkpoint's stored `config_record` with the run of `configs`."""

    def check(record: Mapping) -> list[str]:
        before = [config_lib.from_json(json.dumps(c)) for c in record["configs"]]
        return config_differences(before, configs)

    return check


def checkpoint_differences(workdir: pathlib.Path, like, configs) -> list[str]:
    """What the newest readable checkpoint in `workdir` differs in from the run of `configs`
    whose state looks like `like` (`Checkpointer.differences`); looks only, changes nothing.

    Multi-host: every host looks (Orbax synchronises them) if process 0 saw the checkpoint
    folder, before any host created it."""
    directory = workdir / CHECKPOINT_DIR
    if not multihost_utils.broadcast_one_to_all(np.int32(directory.is_dir())):
        return []
    checkpointer = Checkpointer(directory, max_to_keep=1, read_only=True)
    try:
        return checkpointer.newest_differences(like, record_check(configs))
    finally:
        checkpointer.close()


def announce_resume(step: int, num_steps: int, workdir: pathlib.Path) -> None:
    """One line on stderr (process 0) when a run goes on from a checkpoint, progress bar or not."""
    if step and jax.process_index() == 0:
        print(f"disentax: resuming from step {step} of {num_steps} in {workdir}", file=sys.stderr)


def prepare_workdir(
    config: ml_collections.ConfigDict, workdir: pathlib.Path, force: bool, like
) -> None:
    """Creates `workdir` with `config.json`, or checks it holds a run of this config.

    A run of another config (beyond `RESUMABLE_FIELDS` and `eval.*`) is refused before anything
    is written: by its `config.json` or, with that file gone, by the config its newest checkpoint
    stores (or that checkpoint's tree and shapes against `like`, this run's fresh state). With
    `force=True` it is moved to `workdir/archive/<n>/`, never deleted, and a fresh run starts.
    """
    path = workdir / CONFIG_FILE
    diffs = []
    if path.exists():
        try:
            previous = config_lib.from_json(path.read_text())
        except (ValueError, TypeError) as e:
            raise UserError(
                f"{path} is not a readable config ({e}); use another --workdir"
            ) from None
        diffs = config_differences([previous], [config])
    diffs = diffs or checkpoint_differences(workdir, like, [config])
    if diffs and not force:
        raise UserError(
            f"{workdir} holds a run of a different config (differs in "
            f"{', '.join(diffs[:5])}); pass --force to archive it and start anew, "
            "or use another --workdir"
        )
    if jax.process_index() != 0:  # one host writes; all hosts checked the same file
        return
    if diffs:
        archive(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(config_lib.to_json(config) + "\n")


def archive(workdir: pathlib.Path) -> pathlib.Path:
    """Moves everything in `workdir` except earlier archives and the lock to
    `workdir/archive/<n>/`."""
    root = workdir / "archive"
    n = len(list(root.glob("*"))) if root.exists() else 0
    destination = root / str(n)
    destination.mkdir(parents=True)
    for item in workdir.iterdir():
        if item.name not in ("archive", LOCK_FILE):
            shutil.move(item, destination / item.name)
    return destination


class MetricLog:
    """Host-side running means of the step metrics, written every `every` steps."""

    def __init__(self, writer: ScalarWriter, every: int, task: Task, bar: tqdm):
        self.writer, self.every, self.bar = writer, every, bar
        self.examples_per_step, self.unit = task.examples_per_step, task.unit
        self.sums: dict[str, float] = {}
        self.count = 0
        self.last: dict[str, float] = {}
        self.clock = (time.perf_counter(), None)

    def add(self, step: int, metrics: dict, last_step: int) -> None:
        """Checks and accumulates the metrics of the update that produced `step`."""
        values = {k: float(v) for k, v in metrics.items()}
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        if bad:
            terms = ", ".join(f"{k}={v}" for k, v in bad.items())
            raise TrainingDiverged(f"non-finite values at step {step}: {terms}")
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.count += 1
        if step % self.every == 0 or step == last_step:
            self.flush(step)

    def add_all(self, steps_and_metrics: list, last_step: int) -> None:
        for step, metrics in steps_and_metrics:
            self.add(step, metrics, last_step)

    def flush(self, step: int) -> None:
        now, since = time.perf_counter(), self.clock[1]
        means = {f"train/{k}": v / self.count for k, v in self.sums.items()}
        if since is not None:
            steps_per_s = (step - since) / (now - self.clock[0])
            means["perf/steps_per_s"] = steps_per_s
            means[f"perf/{self.unit}_per_s"] = steps_per_s * self.examples_per_step
        self.writer.write(step, means)
        self.bar.set_postfix(loss=f"{means['train/loss']:.2f}", refresh=False)
        self.last = {k: v for k, v in means.items() if k.startswith("train/")}
        self.sums, self.count, self.clock = {}, 0, (now, step)


def train(
    config: ml_collections.ConfigDict,
    workdir: str | pathlib.Path,
    *,
    force: bool = False,
    hooks: Sequence[Hook] = (),
    progress: bool = True,
) -> dict[str, float]:
    """Trains `config` in `workdir`, resuming from its latest checkpoint; returns final metrics.

    The batch and RNG of step k depend only on (seed, k), so a run killed at any point and
    restarted ends bitwise equal to an uninterrupted one on CPU. `hooks` are called with the
    step number after each step (and after its checkpoint save, if any).

    The run holds the workdir (`lock.workdir_lock`) from start to end: a second command on the
    same workdir is refused at once. Each checkpoint stores the config, so a run of another
    config is refused even when `config.json` is gone.
    """
    workdir = pathlib.Path(workdir)
    with workdir_lock(workdir, "a training"), contextlib.ExitStack() as closing:
        run = build(config)
        fresh = run.init_state()
        prepare_workdir(config, workdir, force, fresh)
        checkpointer = Checkpointer(
            workdir / CHECKPOINT_DIR,
            max_to_keep=config.keep_checkpoints,
            async_save=config.async_checkpoints,
            config=config_record([config]),
        )
        closing.callback(checkpointer.close)
        state = checkpointer.restore_latest(fresh, record_check([config])) or fresh
        announce_resume(int(state.step), config.num_steps, workdir)
        writer = ScalarWriter(workdir)
        closing.callback(writer.close)
        try:
            state, train_metrics = run_steps(
                run, state, checkpointer, writer, hooks, progress, workdir=workdir
            )
            checkpointer.wait()
            results = run.evaluate(
                state, workdir, train_metrics or previous_train_metrics(workdir), writer=writer
            )
            writer.write(
                results["step"], {k: v for k, v in results.items() if k.startswith("eval/")}
            )
            return results
        except TrainingDiverged as e:
            checkpointer.wait()
            kept = max(checkpointer.steps(), default=None)
            raise TrainingDiverged(
                f"{e}; stopped, last good checkpoint: "
                f"{'none' if kept is None else f'step {kept}'} in {workdir}"
            ) from None


def run_steps(
    run: Task,
    state,
    checkpointer: Checkpointer,
    writer: ScalarWriter,
    hooks: Sequence[Hook],
    progress: bool,
    workdir: pathlib.Path | None = None,
) -> tuple:
    """Steps `state` to `config.num_steps`: (final state, the last logged `train/...` means).

    Metrics are fetched once per log interval, after the next step is queued; at checkpoint
    steps they are fetched and checked before the save, so a saved state is always finite.
    Every `eval.every_steps` steps (before the last) the task's `periodic_eval` runs (the VAE
    task: `eval.metrics`, and with a `workdir` the pictures); it uses the eval keys only, so it
    does not change the training numbers.
    """
    config = run.config
    start, last = int(state.step), config.num_steps
    step_fn, batches = run.step_fn, run.batch_fn
    bar = tqdm(
        total=last,
        initial=min(start, last),
        desc="train",
        unit="step",
        disable=not progress or jax.process_index() != 0,
        dynamic_ncols=True,
    )
    log = MetricLog(writer, config.log_every_steps, run, bar)
    pending, ready = [], []  # device metrics of this log interval, and of the last one
    with bar:
        for step in range(start, last):
            state, metrics = step_fn(state, batches(step))
            if ready:  # fetched only now, with the next step already queued on the device
                log.add_all(jax.device_get(ready), last)
                ready = []
            pending.append((step + 1, metrics))
            if (step + 1) % config.checkpoint_every_steps == 0 or step + 1 == last:
                log.add_all(jax.device_get(pending), last)  # checked finite before saving
                pending = []
                checkpointer.save(step + 1, state)
            elif (step + 1) % config.log_every_steps == 0:
                pending, ready = [], pending
            every = config.eval.every_steps
            if every and (step + 1) % every == 0 and step + 1 < last:
                run.periodic_eval(state, step + 1, workdir, writer)
            bar.update(1)
            for hook in hooks:
                hook(step + 1)
    return state, log.last


def previous_train_metrics(workdir: pathlib.Path) -> dict[str, float]:
    """The `train/...` entries of the run's `metrics.json`, if any (kept when re-evaluating)."""
    path = workdir / "metrics.json"
    if not path.exists():
        return {}
    return {k: v for k, v in json.loads(path.read_text()).items() if k.startswith("train/")}


def evaluate_workdir(workdir: str | pathlib.Path, metric_names=None) -> dict[str, float]:
    """Re-evaluates the latest checkpoint of the run in `workdir` with its saved config, on the
    metrics `metric_names` ("mig,dci" or a list; default: the config's `eval.metrics`), whose
    names are checked (`Task.check_metric_names`) before anything is restored; in a workdir
    holding no run, against the default task's (the metric suite's) before saying so."""
    workdir = pathlib.Path(workdir)
    if metric_names is not None and not (workdir / CONFIG_FILE).exists():
        suite.parse_names(metric_names)
    with workdir_lock(workdir, "an evaluation", create=False):  # it writes metrics.json, figures
        run = saved_run(workdir)
        metric_names = run.check_metric_names(metric_names)
        state = restore_state(run, workdir)
        return run.evaluate(state, workdir, previous_train_metrics(workdir), metric_names)


def saved_run(workdir: pathlib.Path) -> Task:
    """The task of the run in `workdir`, built from its saved config (nothing restored)."""
    path = workdir / CONFIG_FILE
    if not path.exists():
        raise UserError(f"{workdir} holds no run ({CONFIG_FILE} is missing); train one first")
    return build(config_lib.from_json(path.read_text()))


def restore_run(workdir: str | pathlib.Path) -> tuple[Task, TrainState]:
    """The run in `workdir` (built from its saved config) and its latest checkpointed state.

    It holds the workdir while restoring (restoring quarantines unreadable checkpoints), so it
    is refused while a training runs there; a checkpoint stored with another config is refused.
    """
    workdir = pathlib.Path(workdir)
    run = saved_run(workdir)
    return run, restore_state(run, workdir)


def restore_state(run: Task, workdir: pathlib.Path) -> TrainState:
    """The latest checkpointed state of `run` in `workdir`, holding the workdir while restoring
    (restoring quarantines unreadable checkpoints); a checkpoint stored with another config is
    refused."""
    with workdir_lock(workdir, "a restore", create=False):
        checkpointer = Checkpointer(
            workdir / CHECKPOINT_DIR, max_to_keep=run.config.keep_checkpoints
        )
        try:
            state = checkpointer.restore_latest(run.init_state(), record_check([run.config]))
        finally:
            checkpointer.close()
    if state is None:
        raise UserError(f"{workdir / CHECKPOINT_DIR} holds no readable checkpoint")
    return state
