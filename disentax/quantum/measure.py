"""Measurement in the computational basis: probabilities, ⟨Z_i⟩, and finite-shot estimates.

p(b) = |ψ_b|² over bitstrings b = (b_0, …, b_{n−1}), held as a `(2,) * n` array like the state;
⟨Z_i⟩ = Σ_b p(b) (−1)^{b_i} = P(b_i = 0) − P(b_i = 1). Shot estimates draw `shots` bitstrings
from p with a JAX key, as a device returns them, by inverse CDF: u_s ~ U(0, Σp), outcome
b_s = min{b : Σ_{b' ≤ b} p(b') > u_s} (a search of the 2^n cumulative sums per shot, not 2^n
Gumbels per shot as `jax.random.categorical` draws).
"""

import jax
import jax.numpy as jnp

from disentax.errors import UserError
from disentax.quantum.statevector import num_qubits_of


def probabilities(state):
    """p(b) = |ψ_b|²: `(2,) * n` complex -> `(2,) * n` real."""
    num_qubits_of(state)
    return jnp.abs(state) ** 2


def marginals(probs):
    """P(b_i = 0), P(b_i = 1) for every qubit i: `(2,) * n -> [n, 2]`."""
    n = num_qubits_of(probs)
    axes = range(n)
    return jnp.stack([jnp.sum(probs, axis=tuple(a for a in axes if a != i)) for i in axes])


def expval_z_from_probabilities(probs):
    """⟨Z_i⟩ = P(b_i = 0) − P(b_i = 1) for every qubit: `(2,) * n -> [n]`."""
    m = marginals(probs)
    return m[:, 0] - m[:, 1]


def expval_z(state):
    """⟨ψ|Z_i|ψ⟩ for every qubit i: `(2,) * n -> [n]` real."""
    return expval_z_from_probabilities(probabilities(state))


def _check_shots(shots) -> int:
    if not isinstance(shots, int) or shots < 1:
        raise UserError(f"shots must be an integer >= 1, got {shots!r}")
    return shots


def _draw_outcomes(key, probs, shots: int):
    """`shots` flat outcome indices drawn i.i.d. from p by inverse CDF (module docstring); a
    rounding-negative p (a density's diagonal) counts as 0: `(2,) * n -> [shots]` int32."""
    cdf = jnp.cumsum(jnp.maximum(jnp.reshape(probs, -1), 0))
    u = jax.random.uniform(key, (shots,), dtype=cdf.dtype) * cdf[-1]
    return jnp.minimum(jnp.searchsorted(cdf, u, side="right"), cdf.shape[0] - 1)


def sample(key, probs, shots: int):
    """`shots` bitstrings drawn i.i.d. from p: `(2,) * n -> [shots, n]` int32 (bit i = qubit i)."""
    n = num_qubits_of(probs)
    index = _draw_outcomes(key, probs, _check_shots(shots))
    return (index[:, None] >> jnp.arange(n - 1, -1, -1)) & 1


def estimate_probabilities(key, probs, shots: int):
    """count(b) / shots over `shots` draws from p: an unbiased estimate of p, `(2,) * n`."""
    n = num_qubits_of(probs)
    shots = _check_shots(shots)
    counts = jnp.bincount(_draw_outcomes(key, probs, shots), length=2**n)
    return jnp.reshape(counts.astype(probs.dtype) / shots, (2,) * n)


def estimate_expval_z(key, probs, shots: int):
    """(1/shots) Σ_s (−1)^{b_i^(s)}: the shot estimate of ⟨Z_i⟩, `(2,) * n -> [n]`."""
    return expval_z_from_probabilities(estimate_probabilities(key, probs, shots))
