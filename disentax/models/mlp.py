"""A multilayer perceptron on vectors."""

from collections.abc import Sequence

import flax.linen as nn
import jax


class MLP(nn.Module):
    """x `[B, D]` -> `[B, outputs]`: Dense(w) + activation for each w in `widths`, then a linear
    Dense(outputs)."""

    widths: Sequence[int]
    outputs: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = getattr(nn, self.activation)
        for width in self.widths:
            x = act(nn.Dense(width)(x))
        return nn.Dense(self.outputs)(x)
