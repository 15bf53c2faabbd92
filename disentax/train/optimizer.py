"""`make_optimizer(config)`: the one place the optax chain is built."""

import re

import jax
import ml_collections
import optax


def decay_mask(pattern: str):
    """params -> bool pytree: True where the '/'-joined parameter path matches `pattern`."""
    regex = re.compile(pattern)

    def mask(params):
        return jax.tree_util.tree_map_with_path(
            lambda path, _: bool(regex.search("/".join(_key(k) for k in path))), params
        )

    return mask


def _key(entry) -> str:
    return str(getattr(entry, "key", getattr(entry, "name", getattr(entry, "idx", entry))))


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam(lr, b1, b2, eps) (disentanglement_lib: 1e-4, 0.9, 0.999, 1e-8), decoupled weight
    decay (AdamW) on the parameters whose path matches `decay_pattern` when `weight_decay > 0`."""
    o = config.optimizer
    if o.weight_decay > 0:
        return optax.adamw(
            o.learning_rate,
            o.b1,
            o.b2,
            o.eps,
            weight_decay=o.weight_decay,
            mask=decay_mask(o.decay_pattern),
        )
    return optax.adam(o.learning_rate, o.b1, o.b2, o.eps)
