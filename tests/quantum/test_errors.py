"""Bad input is a one-line ValueError (`UserError`) naming what was wrong and what is allowed."""

import jax.numpy as jnp
import numpy as np
import pytest

from disentax import quantum as q
from disentax.errors import UserError


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: q.Circuit(3).h(3), ["wire 3", "0..2"]),
        (lambda: q.Circuit(3).cnot(1, -1), ["wire -1", "0..2"]),
        (lambda: q.Circuit(2).cnot(1, 1), ["distinct", "(1, 1)"]),
        (lambda: q.Circuit(0), ["num_qubits", ">= 1"]),
        (lambda: q.Circuit(2).rx(0, "a"), ["angle", "Input(i), Weight(i) or a float"]),
        (lambda: q.Circuit(2).unitary(np.ones((2, 2)), (0,)), ["not unitary", "allowed"]),
        (lambda: q.Circuit(2).unitary(np.eye(2), (0, 1)), ["(4, 4)", "(2, 2)"]),
        (lambda: q.apply_gate(jnp.zeros((4,)), q.H, (0,)), ["shape (2,) * n", "(4,)"]),
        (lambda: q.apply_gate(q.zero_state(2), q.H, (2,)), ["wire 2", "0..1"]),
        (lambda: q.apply_gate(q.zero_state(2), q.CNOT, (0,)), ["(2, 2) matrix", "(4, 4)"]),
        (lambda: q.expval_z(jnp.zeros((2, 3))), ["shape (2,) * n", "(2, 3)"]),
        (lambda: q.NoiseModel(depolarizing_1q=1.5), ["depolarizing_1q", "[0, 1]"]),
        (lambda: q.circuit_function(q.Circuit(1), "counts"), ["readout 'counts'", "expval_z"]),
        (lambda: q.circuit_function(q.Circuit(1), gradient="fd"), ["gradient 'fd'", "autodiff"]),
        (
            lambda: q.simulate(q.Circuit(1).rx(0, q.Weight(1)), jnp.zeros(3)),
            ["weights of shape (3,)", "reads 2 weights"],
        ),
        (lambda: q.simulate(q.Circuit(1).rx(0, q.Input(0))), ["reads 1 inputs", "none given"]),
        (lambda: q.sample(None, jnp.ones((2,)), 0), ["shots", ">= 1"]),
    ],
)
def test_bad_input_is_a_one_line_value_error(make, words):
    with pytest.raises(ValueError) as info:
        make()
    assert isinstance(info.value, UserError)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)


def test_layer_rejects_inputs_of_the_wrong_width():
    layer = q.CircuitLayer(q.Circuit(2).ry(0, q.Input(0)).ry(1, q.Input(1)))
    with pytest.raises(UserError, match=r"inputs of shape \(4, 3\).*reads 2 inputs"):
        layer.init({"params": np.zeros(2, np.uint32)}, jnp.zeros((4, 3)))
