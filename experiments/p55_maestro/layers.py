"""Maestro's low-rank ordered decomposition (LoD, Horváth et al., ICML 2024) as a Flax Linen layer:
W = U Vᵀ trained with ordered dropout over the inner rank, the hierarchical group lasso, and
progressive shrinking as an optax transformation that holds the kept-rank masks.

Conventions. A layer maps x `[..., d]` to y = x V Uᵀ + c `[..., n]` with V `[d, r]` ("v", the
official code's `in_network`), U `[n, r]` ("u", its `out_network`), r = min(d, n) by default;
component i is the pair (u_i, v_i), the columns i of U and V, and the layer at rank b keeps the
first b of them: W_b = Σ_{i<b} u_i v_iᵀ. Any model whose submodules are `MaestroDense` is a
Maestro model; its layers are found in a params tree by their {"u", "v"} leaves
(`maestro_layers`), in the order Flax names them.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import traverse_util

SAMPLERS = ("per_layer", "across_layers")


class MaestroDense(nn.Module):
    """x `[..., d]` -> x V[:, :b] U[:, :b]ᵀ + c `[..., features]`: a dense layer factorised as
    W = U Vᵀ with inner rank r (`rank`, default min(d, features)).

    `rank` at call time (an int or a traced int scalar b, 0 ≤ b ≤ r) keeps the first b components
    by masking the inner activations x V, so b may vary from step to step under `jit` with fixed
    shapes; None keeps all r. At full rank the layer is the dense map with kernel V Uᵀ
    (`dense_kernel`). Init: V ~ N(0, 1/d), U ~ N(0, 1/r) (LeCun normal for each factor, as
    PyTorch's two `nn.Linear` factors of the official code are each scaled by their fan-in).
    """

    features: int
    rank: int | None = None
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, rank=None) -> jax.Array:
        d = x.shape[-1]
        r = self.rank or min(d, self.features)
        init = nn.initializers.lecun_normal(in_axis=0, out_axis=1)
        v = self.param("v", init, (d, r))
        u = self.param("u", nn.initializers.lecun_normal(in_axis=1, out_axis=0), (self.features, r))
        h = x @ v
        if rank is not None:
            h = h * (jnp.arange(r) < rank).astype(h.dtype)
        y = h @ u.T
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))
        return y


class MaestroMLP(nn.Module):
    """x `[B, D]` -> logits `[B, outputs]`: `MaestroDense` + ReLU for each width, then a linear
    `MaestroDense(outputs)`; `ranks` `[L]` (one per layer, L = len(widths) + 1) or None (full)."""

    widths: Sequence[int]
    outputs: int

    @nn.compact
    def __call__(self, x: jax.Array, ranks=None) -> jax.Array:
        features = (*self.widths, self.outputs)
        for i, n in enumerate(features):
            x = MaestroDense(n)(x, None if ranks is None else ranks[i])
            if i < len(self.widths):
                x = nn.relu(x)
        return x


# --- the penalty and the importance


def _safe_sqrt(s: jax.Array) -> jax.Array:
    """√s with gradient 0 at s = 0 (a subgradient of the norm there): a pruned suffix of zeros
    adds nothing and gets no NaN (the official code warns that its cumsum form gives NaN there)."""
    positive = s > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, s, 1.0)), 0.0)


def component_norms(factor: jax.Array, hierarchical: bool = True) -> jax.Array:
    """factor `[m, r]` -> `[r]`: ‖f_i‖ per column, or with `hierarchical` the nested suffix norms
    √(Σ_{j≥i} ‖f_j‖²) (column i's group holds it and every later column)."""
    sq = jnp.sum(factor**2, axis=0)
    if hierarchical:
        sq = jnp.cumsum(sq[::-1])[::-1]
    return _safe_sqrt(sq)


def group_lasso(u: jax.Array, v: jax.Array) -> jax.Array:
    """The hierarchical group lasso of one layer, a scalar:

        Σ_i √(Σ_{j≥i} ‖u_j‖²) + √(Σ_{j≥i} ‖v_j‖²),

    nested groups over suffixes, so a component is penalised once for itself and once for every
    earlier group that contains it: later components are pushed to zero first."""
    return jnp.sum(component_norms(u) + component_norms(v))


def importance(u: jax.Array, v: jax.Array, hierarchical: bool = True) -> jax.Array:
    """`[r]`: ‖u_i‖·‖v_i‖ (with `hierarchical`, the suffix norms' product, which the official
    training script prunes by; it is non-increasing in i, so pruning keeps a prefix). For a
    layer at the SVD of its map, U = P√S, V = Q√S, the plain importance is σ_i."""
    return component_norms(u, hierarchical) * component_norms(v, hierarchical)


def kept_rank(u: jax.Array, v: jax.Array) -> jax.Array:
    """The number of components left after shrinking (an int32 scalar): those of nonzero
    hierarchical importance (pruned components are held at exactly zero, a suffix)."""
    return jnp.sum(importance(u, v) > 0).astype(jnp.int32)


# --- layers in a params tree


def maestro_layers(params) -> dict[tuple, dict]:
    """{path: {"u", "v", ...}} of every Maestro layer in a Linen params tree, in Flax's order."""
    flat = traverse_util.flatten_dict(dict(params))
    paths = sorted({p[:-1] for p in flat if p[-1] == "u" and (*p[:-1], "v") in flat}, key=_order)
    return {p: {k[-1]: x for k, x in flat.items() if k[:-1] == p} for p in paths}


def _order(path: tuple) -> tuple:
    """Flax's `Name_12` sorts after `Name_2`: compare the trailing numbers as numbers."""
    return tuple((s.rpartition("_")[0], int(s.rpartition("_")[2])) if _numbered(s) else (s, -1)
                 for s in path)  # fmt: skip


def _numbered(name: str) -> bool:
    return name.rpartition("_")[2].isdigit()


def ranks_of(params) -> jax.Array:
    """`[L]` int32: each Maestro layer's inner rank r (its number of components)."""
    return jnp.asarray([x["u"].shape[1] for x in maestro_layers(params).values()], jnp.int32)


def kept_ranks(params) -> jax.Array:
    """`[L]` int32: each Maestro layer's `kept_rank`."""
    return jnp.stack([kept_rank(x["u"], x["v"]) for x in maestro_layers(params).values()])


def total_group_lasso(params) -> jax.Array:
    """Σ over the Maestro layers of `group_lasso`."""
    return sum(group_lasso(x["u"], x["v"]) for x in maestro_layers(params).values())


def dense_kernel(layer: dict, rank=None) -> jax.Array:
    """`[d, n]`: the layer's map as a dense kernel, V_b U_bᵀ = W_bᵀ (rank b, default all)."""
    v, u = layer["v"], layer["u"]
    if rank is not None:
        keep = (jnp.arange(u.shape[1]) < rank).astype(u.dtype)
        v = v * keep
    return v @ u.T


def truncate(params, ranks):
    """The params with every Maestro layer l cut to its first `ranks[l]` components (the rest
    set to zero): the deployed low-rank model; applying it equals applying `params` at `ranks`."""
    flat = traverse_util.flatten_dict(dict(params))
    for i, path in enumerate(maestro_layers(params)):
        r = flat[(*path, "u")].shape[1]
        keep = (jnp.arange(r) < ranks[i]).astype(flat[(*path, "u")].dtype)
        flat[(*path, "u")] = flat[(*path, "u")] * keep
        flat[(*path, "v")] = flat[(*path, "v")] * keep
    return traverse_util.unflatten_dict(flat)


def svd_factors(kernel: jax.Array) -> dict:
    """A dense kernel `[d, n]` (y = x K) -> {"u" `[n, r]`, "v" `[d, r]`} with V Uᵀ = K and
    components in SVD order: K = Q S Pᵀ gives V = Q√S, U = P√S (the official `decompose_linear`'s
    split), r = min(d, n). Truncating it to rank k is the Eckart–Young best rank-k kernel."""
    q, s, pt = jnp.linalg.svd(kernel, full_matrices=False)
    root = jnp.sqrt(s)
    return {"u": pt.T * root, "v": q * root}


# --- ordered dropout


def sample_ranks(key: jax.Array, kept: jax.Array, sampler: str = "per_layer") -> jax.Array:
    """Ordered dropout's sampled widths `[L]` int32 over layers of kept ranks `kept` `[L]`.

    "per_layer" (the official `SingleLayerSampler`, the paper's): one (layer, width) pair (l, b)
    uniform over all Σ_l r_l pairs with 1 ≤ b ≤ r_l, so P(l) = r_l / Σ r and b | l is uniform on
    {1..r_l}; the other layers stay at full kept rank. "across_layers" (`IndependentSampler`):
    every layer draws its own b_l uniform on {1..r_l}. The official code shuffles the pairs and
    draws them without replacement per epoch; here they are drawn i.i.d., the same marginal.
    """
    kept = jnp.asarray(kept, jnp.int32)
    if sampler == "per_layer":
        return pair_ranks(jax.random.randint(key, (), 0, jnp.sum(kept)), kept)
    if sampler == "across_layers":
        u = jax.random.uniform(key, kept.shape)
        return jnp.minimum(jnp.floor(u * kept).astype(jnp.int32) + 1, kept)
    raise ValueError(f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")


def pair_ranks(k: jax.Array, kept: jax.Array) -> jax.Array:
    """The k-th (layer, width) pair, 0 ≤ k < Σ r_l, in the order (0, 1)…(0, r_0), (1, 1)…, as
    ranks `[L]`: that layer at that width, the others at their kept rank. A bijection, so a
    uniform k gives the per-layer sampler's uniform pair."""
    ends = jnp.cumsum(kept)
    layer = jnp.sum(ends <= k)
    width = k - (ends[layer] - kept[layer]) + 1
    return jnp.where(jnp.arange(kept.shape[0]) == layer, width, kept)


# --- progressive shrinking


def _key(path: tuple) -> str:
    return "/".join(str(p) for p in path)


def progressive_shrinking(every_steps: int, threshold: float) -> optax.GradientTransformation:
    """Progressive shrinking as masking, the last link of an optax chain.

    State: each Maestro layer's kept-component mask (all True at init) and the update count.
    Every `every_steps` updates (the official code: after each epoch) the mask becomes
    mask ∧ (importance(θ') ≥ `threshold`), θ' the params after this update and importance the
    hierarchical one (a prefix stays). Every update of a Maestro factor is then replaced by −θ on
    the pruned components, so they are exactly zero from that step on and stay zero whatever the
    inner optimizer's moments say: the layer's shapes never change, its `kept_rank` is the
    mask's count, and ordered dropout then samples within it. Other leaves pass through.
    """

    def init_fn(params):
        keep = {_key(p): jnp.ones(x["u"].shape[1], bool) for p, x in maestro_layers(params).items()}
        return {"count": jnp.zeros((), jnp.int32), "keep": keep}

    def update_fn(updates, state, params):
        count = state["count"] + 1
        shrink_now = count % every_steps == 0
        flat_u = traverse_util.flatten_dict(dict(updates))
        flat_p = traverse_util.flatten_dict(dict(params))
        keep = {}
        for path in maestro_layers(params):
            name = _key(path)
            new_u = flat_p[(*path, "u")] + flat_u[(*path, "u")]
            new_v = flat_p[(*path, "v")] + flat_u[(*path, "v")]
            pruned = state["keep"][name] & (importance(new_u, new_v) >= threshold)
            keep[name] = jnp.where(shrink_now, pruned, state["keep"][name])
            for leaf in ("u", "v"):
                flat_u[(*path, leaf)] = jnp.where(
                    keep[name], flat_u[(*path, leaf)], -flat_p[(*path, leaf)]
                )
        return traverse_util.unflatten_dict(flat_u), {"count": count, "keep": keep}

    return optax.GradientTransformation(init_fn, update_fn)


def kept_masks(opt_state) -> dict | None:
    """The `progressive_shrinking` masks found in an optimizer state (None if it has none)."""
    found = []

    def visit(x):
        if isinstance(x, dict) and set(x) == {"count", "keep"}:
            found.append(x["keep"])
            return
        if isinstance(x, tuple | list):
            for y in x:
                visit(y)

    visit(opt_state)
    return found[0] if found else None


__all__ = [
    "SAMPLERS",
    "MaestroDense",
    "MaestroMLP",
    "component_norms",
    "dense_kernel",
    "group_lasso",
    "importance",
    "kept_rank",
    "kept_ranks",
    "maestro_layers",
    "progressive_shrinking",
    "ranks_of",
    "pair_ranks",
    "sample_ranks",
    "svd_factors",
    "total_group_lasso",
    "truncate",
]
