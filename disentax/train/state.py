"""The train state: step, params, optimizer state and the run's base RNG key, as one pytree."""

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct
from flax.core import FrozenDict


@struct.dataclass
class TrainState:
    """Everything a step changes; `tx` is static. The RNG of step k is `fold_in(rng, k)`.

    One player: `params` and `opt_state` are the model's and `tx` is one optax transformation.
    Several players (a `MultiPlayer` objective such as FactorVAE): `params` is `{player: params}`
    (one Linen params tree whose top-level entries are the players), `opt_state` is
    `{player: optimizer state}` and `tx` a `FrozenDict` `{player: transformation}`. Either way
    the state is one pytree, so checkpoints and `jax.vmap` over a population see no difference.
    """

    step: jax.Array
    params: Any
    opt_state: Any
    rng: jax.Array
    tx: optax.GradientTransformation | FrozenDict = struct.field(pytree_node=False)

    @classmethod
    def create(
        cls, params, tx: optax.GradientTransformation | Mapping, rng: jax.Array
    ) -> "TrainState":
        """Step 0; `tx` a mapping `{player: transformation}` initialises each player's state on
        `params[player]`."""
        if isinstance(tx, Mapping):
            tx = FrozenDict(tx)
            opt_state = {player: t.init(params[player]) for player, t in tx.items()}
        else:
            opt_state = tx.init(params)
        return cls(
            step=jnp.zeros((), jnp.int32), params=params, opt_state=opt_state, rng=rng, tx=tx
        )
