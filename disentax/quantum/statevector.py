"""n-qubit pure states as `[2]*n` complex arrays, and gates applied to them axis by axis.

A state |ψ⟩ = Σ_b ψ[b_0, …, b_{n−1}] |b_0 … b_{n−1}⟩ is held as the array ψ of shape `(2,) * n`
(axis i is qubit i, the wire; flattened, qubit 0 is the most significant bit, as in PennyLane). A
k-qubit gate U on wires (w_1, …, w_k) maps

    ψ'[…, a_{w_1}, …, a_{w_k}, …] = Σ_b U[a, b] ψ[…, b_{w_1}, …, b_{w_k}, …],

a contraction over k axes (`jnp.tensordot` + `jnp.moveaxis`), never a `2^n × 2^n` matrix. One-qubit
gates are the two slices of the wire's axis combined elementwise, diagonal gates (RZ, CZ, RZZ) a
broadcast product, CNOT a flip of the target axis within the control's 1-slice: the same
contraction, written so that XLA:CPU fuses it. The kernels act on any array whose qubit axes they
are told (`_apply_*`), so the density-matrix path reuses them on ket and bra axes.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from disentax.errors import UserError


def zero_state(num_qubits: int, dtype=jnp.complex64):
    """|0…0⟩ as a `(2,) * num_qubits` array."""
    if not isinstance(num_qubits, (int, np.integer)) or num_qubits < 1:
        raise UserError(f"num_qubits must be an integer >= 1, got {num_qubits!r}")
    return jnp.zeros((2,) * num_qubits, dtype).at[(0,) * num_qubits].set(1)


def basis_state(bits, dtype=jnp.complex64):
    """|b_0 … b_{n−1}⟩ for a sequence of 0/1 `bits`, as a `(2,) * n` array."""
    bits = tuple(int(b) for b in bits)
    if not bits or any(b not in (0, 1) for b in bits):
        raise UserError(f"bits must be a non-empty sequence of 0 and 1, got {bits}")
    return jnp.zeros((2,) * len(bits), dtype).at[bits].set(1)


def num_qubits_of(state) -> int:
    """n for a state of shape `(2,) * n`; a one-line `UserError` for any other shape."""
    shape = tuple(jnp.shape(state))
    if not shape or any(d != 2 for d in shape):
        raise UserError(
            f"a state must have shape (2,) * n (one axis of size 2 per qubit), got shape {shape}"
        )
    return len(shape)


def check_wires(wires, num_qubits: int) -> tuple[int, ...]:
    """`wires` as a tuple of ints, after checking each is in 0..num_qubits−1 and all differ."""
    wires = tuple(wires)
    for w in wires:
        if not isinstance(w, (int, np.integer)) or not 0 <= w < num_qubits:
            raise UserError(
                f"wire {w!r} is out of range: a {num_qubits}-qubit state has wires "
                f"0..{num_qubits - 1}"
            )
    if len(set(wires)) != len(wires):
        raise UserError(f"wires must be distinct, got {wires}")
    return tuple(int(w) for w in wires)


def norm(state):
    """‖ψ‖ = sqrt(Σ_b |ψ_b|²)."""
    return jnp.sqrt(jnp.sum(jnp.abs(state) ** 2))


def apply_gate(state, matrix, wires):
    """U|ψ⟩ for a k-qubit gate `matrix` `[2^k, 2^k]` on `wires` (k = len(wires)), `(2,) * n`.

    `matrix` may be traced (a rotation of a traced angle). Its unitarity is not checked here
    (`gates.check_unitary` does, for fixed matrices given to a `Circuit`).
    """
    n = num_qubits_of(state)
    wires = check_wires(wires, n)
    d = 2 ** len(wires)
    if jnp.shape(matrix) != (d, d):
        raise UserError(
            f"a gate on {len(wires)} wire(s) needs a ({d}, {d}) matrix, got shape "
            f"{tuple(jnp.shape(matrix))}"
        )
    if len(wires) == 1:
        return _apply_one_qubit(state, matrix, wires[0])
    return _apply_matrix(state, matrix, wires)


def apply_diagonal(state, diagonal, wires):
    """D|ψ⟩ for a diagonal gate given by its diagonal `[2^k]` (or `(2,) * k`) on `wires`."""
    n = num_qubits_of(state)
    wires = check_wires(wires, n)
    if jnp.size(diagonal) != 2 ** len(wires):
        raise UserError(
            f"a diagonal gate on {len(wires)} wire(s) needs {2 ** len(wires)} entries, got "
            f"shape {tuple(jnp.shape(diagonal))}"
        )
    return _apply_diagonal(state, jnp.reshape(diagonal, (2,) * len(wires)), wires)


def apply_cnot(state, control: int, target: int):
    """CNOT|ψ⟩: the target's axis flipped where the control is 1."""
    control, target = check_wires((control, target), num_qubits_of(state))
    return _apply_cnot(state, control, target)


# Kernels on any array: `axes` are the positions of the gate's qubits in `array`. Each views the
# array as (left, 2, right) blocks around its axes (a free reshape), so XLA sees three or five
# dimensions, not n. Each is jitted on its own (static axes), so that an eager call compiles one
# program per shape and axes rather than one per operation; under an outer `jit` it is inlined.


def _blocks(shape, axes):
    """The shape that splits `shape` around the sorted `axes`: (L_0, 2, L_1, 2, …, R)."""
    blocks, start = [], 0
    for axis in sorted(axes):
        blocks += [math.prod(shape[start:axis]), 2]
        start = axis + 1
    return tuple(blocks + [math.prod(shape[start:])])


@functools.partial(jax.jit, static_argnums=2)
def _apply_matrix(array, matrix, axes):
    """Σ_b U[a, b] array[…b…]: U reshaped to `(2,) * 2k`, contracted with `axes`, moved back."""
    k = len(axes)
    u = jnp.reshape(jnp.asarray(matrix, array.dtype), (2,) * (2 * k))
    out = jnp.tensordot(u, array, axes=(list(range(k, 2 * k)), list(axes)))
    return jnp.moveaxis(out, list(range(k)), list(axes))


@functools.partial(jax.jit, static_argnums=2)
def _apply_one_qubit(array, matrix, axis):
    """(U ψ)_a = U_{a0} ψ_0 + U_{a1} ψ_1 along `axis`, elementwise over the two slices."""
    m = jnp.asarray(matrix, array.dtype)
    x = jnp.reshape(array, _blocks(array.shape, (axis,)))
    x0, x1 = x[:, 0], x[:, 1]
    out = jnp.stack([m[0, 0] * x0 + m[0, 1] * x1, m[1, 0] * x0 + m[1, 1] * x1], axis=1)
    return jnp.reshape(out, array.shape)


@functools.partial(jax.jit, static_argnums=2)
def _apply_diagonal(array, diagonal, axes):
    """array · D, D of shape `(2,) * k` (its axis j on `axes[j]`), broadcast over the rest."""
    d = jnp.transpose(jnp.asarray(diagonal, array.dtype), np.argsort(axes))
    blocks = _blocks(array.shape, axes)
    d = jnp.reshape(d, tuple(2 if i % 2 else 1 for i in range(len(blocks))))
    return jnp.reshape(jnp.reshape(array, blocks) * d, array.shape)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _apply_cnot(array, control, target):
    """Stacks the control's 0-slice unchanged and its 1-slice with the target axis reversed."""
    x = jnp.reshape(array, _blocks(array.shape, (control, target)))
    c, t = (1, 3) if control < target else (3, 1)
    x0 = lax.slice_in_dim(x, 0, 1, axis=c)
    x1 = lax.slice_in_dim(x, 1, 2, axis=c)
    return jnp.reshape(jnp.concatenate([x0, jnp.flip(x1, t)], axis=c), array.shape)
