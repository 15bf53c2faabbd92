"""The teacher-student regression task: its loss in closed form, its data, and that it learns."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.models.mlp import MLP
from disentax.tasks.regression import squared_error
from disentax.train import build, train


def test_squared_error_is_the_mean_square_plus_l2_times_the_sum_of_squares():
    model = MLP((3,), 2)
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))["params"]
    batch = {"x": jax.random.normal(jax.random.PRNGKey(1), (5, 4)), "y": jnp.ones((5, 2))}
    loss, metrics = squared_error(params, batch, None, model=model, step=0, l2=0.1)
    prediction = np.asarray(model.apply({"params": params}, batch["x"]))
    mse = np.mean((prediction - 1.0) ** 2)
    squares = sum(float(np.sum(np.asarray(p) ** 2)) for p in jax.tree.leaves(params))
    np.testing.assert_allclose(metrics["mse"], mse, rtol=1e-6)
    np.testing.assert_allclose(loss, mse + 0.1 * squares, rtol=1e-6)


def test_batches_are_the_teacher_plus_noise_and_a_function_of_key_and_step():
    config = config_lib.load_config("regression_mlp:tiny")
    config.data.noise_std = 0.0
    task = build(config)
    batch = task.batch(task.keys.data, 3)
    np.testing.assert_allclose(batch["y"], task.targets(batch["x"]), rtol=1e-6)
    again = task.batch(task.keys.data, 3)
    np.testing.assert_array_equal(batch["x"], again["x"])
    assert not np.allclose(batch["x"], task.batch(task.keys.data, 4)["x"])
    # the teacher is the same for every seed; the data stream is the seed's
    config.seed = 1
    other = build(config)
    np.testing.assert_array_equal(other.targets(batch["x"]), task.targets(batch["x"]))
    assert not np.allclose(other.batch(other.keys.data, 3)["x"], batch["x"])


def test_the_student_recovers_the_teacher(tmp_path):
    config = config_lib.load_config("regression_mlp")
    config.num_steps = 1500
    task = build(config)
    before = task.scores(task.init_state().params, jax.random.PRNGKey(0))["eval/r2"]
    results = train(config, tmp_path, progress=False)
    assert before < 0.3
    assert results["eval/r2"] > 0.9, results
    # the noisy held-out MSE is at least the noise variance σ² = 0.01
    assert results["eval/mse"] > 0.9 * config.data.noise_std**2


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("data.input_dim", 0, "'data.input_dim' must be positive"),
        ("objective.l2", -1.0, "'objective.l2' must be >= 0"),
        ("batch_size", -4, "'batch_size' must be positive"),
    ],
)
def test_bad_fields_are_one_line_errors(field, value, message):
    config = config_lib.load_config("regression_mlp:tiny")
    config_lib.apply_overrides(config, [f"{field}={value}"])
    with pytest.raises(UserError, match=message):
        build(config)
