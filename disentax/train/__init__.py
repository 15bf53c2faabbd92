"""Training: tasks (`Task`; the VAE task `Run`), state, step, optimizer, checkpoints, the loop,
and end-of-run evaluation."""

from disentax.train.build import Run, build
from disentax.train.loop import TrainingDiverged, evaluate_workdir, restore_run, train
from disentax.train.optimizer import make_optimizer
from disentax.train.state import TrainState
from disentax.train.step import train_step
from disentax.train.task import Task

__all__ = [
    "Run",
    "Task",
    "TrainState",
    "TrainingDiverged",
    "build",
    "evaluate_workdir",
    "make_optimizer",
    "restore_run",
    "train",
    "train_step",
]
