"""`CircuitLayer`: a parameterised circuit as a Flax Linen layer, vmapped over the batch.

y_b = readout(U(w, x_b) |0…0⟩) for every row x_b of the input: the circuit's `Input(i)` angles
read x_b[i], its `Weight(i)` angles the layer's trainable parameter `weights` `[num_weights]`,
initialised uniform in [0, 2π). With `shots`, the output is the finite-shot estimate from
`make_rng("shots")` on the forward pass while the gradient is that of the exact expectation
(y = exact + stop_gradient(estimate − exact)), the usual model of shot noise in training.
"""

import functools
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from disentax.errors import UserError
from disentax.quantum import gradients, measure
from disentax.quantum.channels import NoiseModel
from disentax.quantum.circuit import Circuit


def uniform_angles(key, shape, dtype=jnp.float32):
    """Angles uniform in [0, 2π)."""
    return jax.random.uniform(key, shape, dtype, 0.0, 2 * jnp.pi)


class CircuitLayer(nn.Module):
    """`[..., num_inputs] -> [..., n]` (`"expval_z"`) or `[..., 2^n]` (`"probabilities"`).

    Fields: the `circuit`; `readout`; `gradient` (`"autodiff"` or `"parameter_shift"`); `noise`
    (a `NoiseModel`: the density-matrix path); `shots` (None: exact); `weight_init`.
    """

    circuit: Circuit
    readout: str = "expval_z"
    gradient: str = "autodiff"
    noise: NoiseModel | None = None
    shots: int | None = None
    weight_init: Callable = uniform_angles

    @nn.compact
    def __call__(self, inputs):
        circuit = self.circuit
        weights = self.param("weights", self.weight_init, (circuit.num_weights,))
        inputs = jnp.asarray(inputs)
        if inputs.ndim < 1 or inputs.shape[-1] != circuit.num_inputs:
            raise UserError(
                f"inputs of shape {inputs.shape} given; the circuit reads {circuit.num_inputs} "
                f"inputs, shape [..., {circuit.num_inputs}]"
            )
        batch_shape = inputs.shape[:-1]
        rows = jnp.reshape(inputs, (-1, circuit.num_inputs))
        if self.shots is None:
            out = _batched_function(circuit, self.readout, self.gradient, self.noise)(weights, rows)
        else:
            keys = jax.random.split(self.make_rng("shots"), rows.shape[0])
            sampled = _batched_shots_function(
                circuit, self.readout, self.gradient, self.noise, self.shots
            )
            out = sampled(weights, rows, keys)
        return jnp.reshape(out, batch_shape + out.shape[1:])


# One jitted batched function per (circuit, readout, gradient, noise[, shots]): an eager call (a
# model's `init`) compiles one program instead of one per operation; under an outer `jit` it is
# inlined.


@functools.lru_cache(maxsize=64)
def _batched_function(circuit, readout, gradient, noise):
    f = gradients.circuit_function(circuit, readout, gradient=gradient, noise=noise)
    return jax.jit(jax.vmap(f, in_axes=(None, 0)))


@functools.lru_cache(maxsize=64)
def _batched_shots_function(circuit, readout, gradient, noise, shots):
    gradients._choice("readout", readout, gradients.READOUTS)
    probability_fn = gradients.circuit_function(
        circuit, "probabilities", gradient=gradient, noise=noise
    )

    def one(weights, x, key):
        probs = jnp.reshape(probability_fn(weights, x), (2,) * circuit.num_qubits)
        estimate = measure.estimate_probabilities(key, jax.lax.stop_gradient(probs), shots)
        exact = gradients.readout_from_probabilities(probs, readout)
        sampled = gradients.readout_from_probabilities(estimate, readout)
        return exact + jax.lax.stop_gradient(sampled - exact)

    return jax.jit(jax.vmap(one, in_axes=(None, 0, 0)))
