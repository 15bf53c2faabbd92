"""Multi-player objectives (FactorVAE, GANs): one loss per player and the order of their updates."""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class MultiPlayer:
    """An objective whose parameters are split between players, each with its own loss.

    `loss_fn(params, batch, rng, *, model, step, **hparams) -> ({player: loss}, metrics)` takes
    the whole params tree; a player owns the top-level params entry of its name and is updated
    by the gradient of its own loss with respect to that entry only (the others held fixed).

    `schedule` is the train step's sequence of updates: each entry names the players updated
    simultaneously from the gradients at the current params (FactorVAE: `(("model",
    "discriminator"),)`, one update of both, as disentanglement_lib's grouped train ops).
    With `batches_per_step = n > 1` the step's batch has a leading axis of n and update i reads
    batch `batch_index[i]` (WGAN-GP: n critic updates on batches 0..n-1, then the generator on
    batch n-1); with n = 1 every update reads the one batch. `discriminator=True`: the run pairs
    the model with `config.discriminator` (`models.WithDiscriminator`), players "model" and
    "discriminator".
    """

    loss_fn: Callable
    schedule: tuple[tuple[str, ...], ...]
    batches_per_step: int = 1
    batch_index: tuple[int, ...] | None = None
    discriminator: bool = False

    def __post_init__(self):
        index = self.batch_index or (0,) * len(self.schedule)
        if len(index) != len(self.schedule) or not all(
            0 <= i < self.batches_per_step for i in index
        ):
            raise ValueError(
                f"batch_index {self.batch_index} must give each of the {len(self.schedule)} "
                f"updates a batch in 0..{self.batches_per_step - 1}"
            )
        object.__setattr__(self, "batch_index", index)

    @property
    def players(self) -> tuple[str, ...]:
        """Every player of the schedule, in order of first appearance."""
        return tuple(dict.fromkeys(p for update in self.schedule for p in update))
