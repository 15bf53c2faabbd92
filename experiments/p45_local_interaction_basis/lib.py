"""The local interaction basis (LIB; Bushnaq et al. 2024, P45, and P27's interaction basis) of a
network given as a chain of sections f^{l+1} = s_l(f^l), its interaction graph, the PCA and
neuron bases it is compared with, and the ablation of a basis to its first k directions.

Node layers are row vectors with the biases folded in: a hidden layer carries a trailing
constant 1 (`fold_mlp`), so a section is affine-free and a bias is one more weight. A basis of
node layer l is a pair (C `[d, k]`, C⁺ `[k, d]`): features f̂ = f C, and f ≈ f̂ C⁺ on the data.

LIB, computed backwards from the output (as `rib/interaction_algos.py` of ApolloResearch/rib):
- the output layer's basis is the eigenbasis U of its Gram matrix (C = U, C⁺ = Uᵀ);
- layer l: G = E[fᵀf] = U D Uᵀ, eigenvalues below `gram_tol` dropped (whitening f U D^{−1/2}
  has identity Gram); J(x) = ∂(s_l(f) C^{l+1}) / ∂f at f = f^l(x) (`jax.jacfwd`, vmapped),
  M′ = E[JᵀJ]; M = D^{1/2} Uᵀ M′ U D^{1/2} = V Λ Vᵀ, Λ descending, directions with
  Λ < `lambda_tol` dropped; C = U D^{−1/2} V Λ^{1/2} and C⁺ = Λ^{−1/2} Vᵀ D^{1/2} Uᵀ. Each
  feature is whitened, rotated to the principal directions of the Jacobian of the next layer's
  features and scaled by its importance downstream (Λ^{1/2}).
The eigendecompositions run in float64 (NumPy); the Jacobians in JAX float32.
"""

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

GRAM_TOL = 1e-5  # rib's `truncation_threshold` (both G's and Λ's eigenvalues)
# A section: (fn, params) with fn(params, f^l `[d_l]`) -> f^{l+1} `[d_{l+1}]` for one example; fn
# is a module-level function (a static jit argument), params are arrays (traced), so one
# compilation serves every network of the same shapes.
Section = tuple[Callable, Any]


@dataclasses.dataclass(frozen=True)
class Basis:
    """C `[d, k]`, C⁺ `[k, d]` (f̂ = f C, f ≈ f̂ C⁺), with the eigenvalues behind it: the Gram's
    (all d, descending) and Λ (LIB's kept ones; None for PCA and neurons)."""

    C: np.ndarray
    C_pinv: np.ndarray
    gram_eigenvalues: np.ndarray
    lambdas: np.ndarray | None = None
    gram_rank: int = 0
    m_rank: int | None = None

    @property
    def size(self) -> int:
        return self.C.shape[1]


# --- the network as sections


def fold_mlp(params: dict) -> list[np.ndarray]:
    """A `disentax.models.mlp.MLP`'s params -> the folded weights W_l = [kernel; bias]
    `[d_l + 1, d_{l+1}]`, one per Dense layer in order."""
    names = sorted(params, key=lambda n: int(n.rpartition("_")[2]))
    return [
        np.concatenate([np.asarray(params[n]["kernel"]), np.asarray(params[n]["bias"])[None]])
        for n in names
    ]


def relu_section(w, f):
    """[relu(f W), 1]: a hidden layer with its bias folded into W `[d_l, h]`."""
    return jnp.concatenate([jax.nn.relu(f @ w), jnp.ones(f.shape[:-1] + (1,), f.dtype)], -1)


def linear_section(w, f):
    """f W: the output layer (logits)."""
    return f @ w


def mlp_sections(weights: Sequence[np.ndarray]) -> list[Section]:
    """s_l(f) = [relu(f W_l), 1] for the hidden layers and f W_L for the output (logits)."""
    ws = [jnp.asarray(w, jnp.float32) for w in weights]
    return [(relu_section, w) for w in ws[:-1]] + [(linear_section, ws[-1])]


def apply(section: Section, f: jax.Array) -> jax.Array:
    """The section on one example f `[d_l]`."""
    fn, params = section
    return fn(params, f)


def padded(a: np.ndarray, shape: tuple[int, int]) -> jax.Array:
    """a zero-padded to `shape` (float32): bases of one layer share one compiled shape."""
    out = np.zeros(shape, np.float32)
    out[: a.shape[0], : a.shape[1]] = a
    return jnp.asarray(out)


def with_constant(x: jax.Array) -> jax.Array:
    """x `[N, d]` -> [x, 1] `[N, d + 1]`: the input node layer."""
    return jnp.concatenate([x, jnp.ones((x.shape[0], 1), x.dtype)], -1)


def node_layers(sections: Sequence[Section], f0: jax.Array) -> list[np.ndarray]:
    """[f^0, f^1, ..., f^L] `[N, d_l]` of the data f0 `[N, d_0]`."""
    fs = [jnp.asarray(f0)]
    for s in sections:
        fs.append(jax.vmap(functools.partial(apply, s))(fs[-1]))
    return [np.asarray(f) for f in fs]


def run_from(sections: Sequence[Section], layer: int, f: jax.Array) -> jax.Array:
    """The output of the sections after node layer `layer` applied to f `[N, d_layer]`."""
    for s in sections[layer:]:
        f = jax.vmap(functools.partial(apply, s))(f)
    return f


# --- bases


def gram_eig(f: np.ndarray, tol: float = GRAM_TOL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(D all eigenvalues of G = fᵀf/N descending, D kept (> tol), U kept `[d, r]`), float64."""
    f = np.asarray(f, np.float64)
    d, u = np.linalg.eigh(f.T @ f / len(f))
    d, u = d[::-1], u[:, ::-1]
    keep = d > tol
    return d, d[keep], u[:, keep]


def whiten(f: np.ndarray, tol: float = GRAM_TOL) -> np.ndarray:
    """f̃ = f U D^{−1/2} `[N, r]` (kept eigendirections of the Gram): E[f̃ᵀ f̃] = I_r."""
    _, d, u = gram_eig(f, tol)
    return np.asarray(f, np.float64) @ (u / np.sqrt(d))


def pca_basis(f: np.ndarray, tol: float = GRAM_TOL) -> Basis:
    """The Gram matrix's eigenbasis, kept eigenvalues > tol (rib's "svd"; uncentred PCA)."""
    d_all, _, u = gram_eig(f, tol)
    return Basis(u, u.T, d_all, gram_rank=u.shape[1])


def neuron_basis(f: np.ndarray, tol: float = GRAM_TOL) -> Basis:
    """The coordinates themselves, those with E[f_i²] > tol (dead units dropped)."""
    f = np.asarray(f, np.float64)
    alive = np.flatnonzero(np.mean(f**2, 0) > tol)
    eye = np.eye(f.shape[1])[:, alive]
    return Basis(eye, eye.T, np.sort(np.mean(f**2, 0))[::-1], gram_rank=len(alive))


def jacobian_second_moment(section: Section, c_next: np.ndarray, f: np.ndarray) -> np.ndarray:
    """M′ = E_x[JᵀJ] `[d, d]`, J = ∂(s(f) C^{l+1}) / ∂f `[k_{l+1}, d]` at each row of f."""
    fn, params = section
    c = padded(c_next, (c_next.shape[0], c_next.shape[0]))  # zero columns add nothing to M′
    m = _jacobian_moment(fn, params, c, jnp.asarray(f, jnp.float32))
    return np.asarray(m, np.float64)


@functools.partial(jax.jit, static_argnums=0)
def _jacobian_moment(fn, params, c, f):
    jac = jax.vmap(jax.jacfwd(lambda v: fn(params, v) @ c))(f)
    return jnp.einsum("nkd,nke->de", jac, jac, precision="highest") / f.shape[0]


def lib_layer(
    section: Section, next_basis: Basis, f: np.ndarray, gram_tol=GRAM_TOL, lambda_tol=GRAM_TOL
) -> Basis:
    """One layer's LIB basis (module docstring) from its activations f `[N, d]`, the section to
    the next node layer and that layer's basis."""
    d_all, d, u = gram_eig(f, gram_tol)
    m_dash = jacobian_second_moment(section, next_basis.C, f)
    a = u * np.sqrt(d)  # U D^{1/2}
    m = a.T @ m_dash @ a
    lam, v = np.linalg.eigh((m + m.T) / 2)
    lam = np.abs(lam)  # M is PSD; |·| as rib, against rounding
    order = np.argsort(-lam, kind="stable")
    lam, v = lam[order], v[:, order]
    keep = lam > lambda_tol
    lam_k, v_k = lam[keep], v[:, keep]
    c = (u / np.sqrt(d)) @ v_k * np.sqrt(lam_k)
    c_pinv = (v_k.T / np.sqrt(lam_k)[:, None]) @ (u * np.sqrt(d)).T
    return Basis(c, c_pinv, d_all, lam, gram_rank=len(d), m_rank=int(keep.sum()))


def lib_bases(
    sections: Sequence[Section], f0: jax.Array, gram_tol=GRAM_TOL, lambda_tol=GRAM_TOL
) -> list[Basis]:
    """LIB bases of every node layer [f^0 .. f^L], computed from the output backwards."""
    fs = node_layers(sections, f0)
    bases = [pca_basis(fs[-1], gram_tol)]
    for layer in range(len(sections) - 1, -1, -1):
        bases.insert(0, lib_layer(sections[layer], bases[0], fs[layer], gram_tol, lambda_tol))
    return bases


# --- ablation and the interaction graph


def ablate(f: jax.Array, basis: Basis, k: int) -> jax.Array:
    """f `[N, d]` kept to the first k features of `basis`: (f C_{:, :k}) C⁺_{:k}."""
    c = jnp.asarray(basis.C[:, :k], jnp.float32)
    return (f @ c) @ jnp.asarray(basis.C_pinv[:k], jnp.float32)


def ablation_outputs(sections: Sequence[Section], layer: int, basis: Basis, f) -> jax.Array:
    """`[size, N, d_L]`: the network's outputs with node layer `layer` (f `[N, d]`) kept to its
    first k = 1..size features of `basis` (all k at once, one mask each)."""
    d = basis.C.shape[0]
    masks = jnp.tril(jnp.ones((d, d), jnp.float32))  # all d, so that one compilation serves
    rest = tuple(sections[layer:])  # every basis of the layer; the first `size` are kept
    return _ablated(
        tuple(fn for fn, _ in rest), tuple(p for _, p in rest), padded(basis.C, (d, d)),
        padded(basis.C_pinv, (d, d)), jnp.asarray(f, jnp.float32), masks,
    )[: basis.size]  # fmt: skip


@functools.partial(jax.jit, static_argnums=0)
def _ablated(fns, params, c, c_pinv, f, masks):
    def one(mask):
        out = ((f @ c) * mask) @ c_pinv
        for fn, p in zip(fns, params, strict=True):
            out = jax.vmap(functools.partial(fn, p))(out)
        return out

    return jax.lax.map(one, masks)


def interaction_graph(
    section: Section, basis_in: Basis, basis_out: Basis, f: np.ndarray, n_alpha: int = 8
) -> np.ndarray:
    """Edges E `[k_l, k_{l+1}]` between the features of two node layers: the squared integrated
    gradient E_x[(f̂_i ∫₀¹ ∂ĝ_j/∂f̂_i (α f̂) dα)²] of ĝ(f̂) = s(f̂ C⁺_l) C_{l+1}, the integral by
    the midpoint rule on `n_alpha` points (rib's "(1-0)*alpha" edges)."""
    fn, params = section
    d_in, d_out = basis_in.C.shape[0], basis_out.C.shape[0]
    f_hat = np.asarray(f, np.float64) @ np.asarray(padded(basis_in.C, (d_in, d_in)), np.float64)
    edges = _edges(
        fn, n_alpha, params, padded(basis_in.C_pinv, (d_in, d_in)),
        padded(basis_out.C, (d_out, d_out)), jnp.asarray(f_hat, jnp.float32),
    )  # fmt: skip
    return np.asarray(edges, np.float64)[: basis_in.size, : basis_out.size]


@functools.partial(jax.jit, static_argnums=(0, 1))
def _edges(fn, n_alpha, params, c_pinv, c_out, f_hat):
    alphas = (jnp.arange(n_alpha) + 0.5) / n_alpha

    def one(fh):
        jac = jax.vmap(jax.jacfwd(lambda v: fn(params, v @ c_pinv) @ c_out))(alphas[:, None] * fh)
        return (jnp.mean(jac, 0) * fh[None, :]).T ** 2  # [k_l, k_{l+1}]

    return jnp.mean(jax.lax.map(one, f_hat, batch_size=64), 0)


def gini(weights: np.ndarray) -> float:
    """Gini coefficient of non-negative weights (0: all equal, → 1: one carries everything):
    Σ_i (2i − n − 1) w_(i) / (n Σ w), w sorted ascending."""
    w = np.sort(np.asarray(weights, np.float64).ravel())
    n = len(w)
    return float(np.sum((2 * np.arange(1, n + 1) - n - 1) * w) / (n * w.sum()))


def top_mass(weights: np.ndarray, fraction: float = 0.05) -> float:
    """The share of the total held by the largest ⌈fraction·n⌉ weights."""
    w = np.sort(np.asarray(weights, np.float64).ravel())[::-1]
    return float(w[: int(np.ceil(fraction * len(w)))].sum() / w.sum())
