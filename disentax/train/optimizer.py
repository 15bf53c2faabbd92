"""`make_optimizer(config)`: the one place the optax chain is built."""

import re
import warnings

import jax
import ml_collections
import optax

from disentax.errors import UserError


def parameter_paths(params) -> list[str]:
    """The '/'-joined path of every leaf, e.g. `encoder/conv0/kernel`, in tree order."""
    leaves = jax.tree_util.tree_leaves_with_path(params)
    return ["/".join(_key(k) for k in path) for path, _ in leaves]


def decay_mask(pattern: str, exclude: tuple[str, ...] = ()):
    """params -> bool pytree: True where the '/'-joined parameter path matches `pattern` (re.search)
    and none of the `exclude` patterns.

    Each regex that matches no parameter path raises a `UserWarning` (via `warnings.warn`) naming
    it, when the mask is first computed (at `tx.init(params)`).
    """
    regex = _compile("optimizer.decay_pattern", pattern)
    excluded = [_compile("optimizer.decay_exclude", p) for p in exclude]

    def mask(params):
        paths = parameter_paths(params)
        for r in (regex, *excluded):
            if paths and not any(r.search(p) for p in paths):
                warnings.warn(
                    f"optimizer regex {r.pattern!r} matches no parameter (paths look like "
                    f"{paths[0]!r})",
                    UserWarning,
                    stacklevel=1,
                )
        return jax.tree_util.tree_map_with_path(lambda path, _: _selected(path), params)

    def _selected(path) -> bool:
        p = "/".join(_key(k) for k in path)
        return bool(regex.search(p)) and not any(r.search(p) for r in excluded)

    return mask


def _compile(field: str, pattern) -> re.Pattern:
    if not isinstance(pattern, str):
        raise UserError(f"config field {field!r} needs regex strings, got {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error as e:
        raise UserError(f"config field {field!r}: bad regex {pattern!r}: {e}") from None


def _key(entry) -> str:
    return str(getattr(entry, "key", getattr(entry, "name", getattr(entry, "idx", entry))))


# The numeric fields of an optimizer config that `make_optimizer` accepts as arrays.
VALUE_FIELDS = ("learning_rate", "b1", "b2", "eps", "weight_decay")


def make_optimizer(config: ml_collections.ConfigDict, **values) -> optax.GradientTransformation:
    """Adam(lr, b1, b2, eps) (disentanglement_lib: 1e-4, 0.9, 0.999, 1e-8) with, on the
    *regularized* parameters, decoupled weight decay and element-wise gradient clipping.

    Regularized: the '/'-joined path matches `optimizer.decay_pattern` and none of the optional
    `optimizer.decay_exclude` regexes. With `weight_decay > 0` the chain is AdamW masked to them
    (θ ← θ − lr·(adam(g) + λ·θ) there, θ ← θ − lr·adam(g) elsewhere); with the optional
    `optimizer.clip` c > 0 their gradients are first clipped to [−c, c] (`optax.clip`). This is the
    QLAE code's rule, `multi_transform({regularized: chain(clip(1), adamw(lr, λ)), rest:
    adam(lr)})`, with decay_pattern ".", decay_exclude ("(^|/)bias$", "(^|/)codebook$"). Configs
    without `decay_exclude` / `clip` get exactly the optimizer they had (AdamW or Adam).

    `values` (names in `VALUE_FIELDS`) replace those config fields by scalars or traced arrays —
    one population member's learning rate or weight decay under `jax.vmap` — while the chain's
    form (AdamW or Adam, clipped or not) and its state's structure stay the config's.
    """
    o = config.optimizer
    unknown = sorted(set(values) - set(VALUE_FIELDS))
    if unknown:
        raise UserError(
            f"optimizer values {', '.join(unknown)} cannot be arrays; allowed: "
            f"{', '.join(VALUE_FIELDS)}"
        )
    exclude = tuple(o.get("decay_exclude", ()))
    clip = o.get("clip", 0.0)
    if o.weight_decay < 0 or clip < 0:
        raise UserError(
            "config fields 'optimizer.weight_decay' and 'optimizer.clip' must be >= 0, got "
            f"{o.weight_decay} and {clip}"
        )
    v = {name: values.get(name, o[name]) for name in VALUE_FIELDS}
    mask = decay_mask(o.decay_pattern, exclude)
    if o.weight_decay > 0:
        tx = optax.adamw(
            v["learning_rate"],
            v["b1"],
            v["b2"],
            v["eps"],
            weight_decay=v["weight_decay"],
            mask=mask,
        )
    else:
        tx = optax.adam(v["learning_rate"], v["b1"], v["b2"], v["eps"])
    if clip > 0:
        tx = optax.chain(optax.masked(optax.clip(clip), mask), tx)
    return tx
