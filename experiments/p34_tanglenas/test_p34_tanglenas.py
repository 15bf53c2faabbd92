"""P34's mechanism in closed form: the superposed kernel is the α-weighted sum of the zero-padded,
centre-cropped sub-kernels (and a separable mask of W); one-hot α gives exactly the sub-network
(an independent `lax.conv` at its own sizes); masked channels are exactly zero and their weights
do not matter; the supernet holds as many weights as the largest architecture; the search task's
step updates the architecture on validation batches and the weights on training batches."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.train import build
from experiments.p34_tanglenas import config, layers, task

KEY = jax.random.PRNGKey(0)


def random_simplex(key, n=3):
    return jax.random.dirichlet(key, jnp.ones(len(layers.CHANNELS)), (n,))


@pytest.mark.parametrize("with_input_alpha", [False, True])
def test_superposed_kernel_is_the_alpha_weighted_sum_of_padded_sub_kernels(with_input_alpha):
    w = jax.random.normal(KEY, (7, 7, 32 if with_input_alpha else 1, 32))
    a_out, a_k, a_in = random_simplex(jax.random.PRNGKey(1))
    a_in = a_in if with_input_alpha else None
    separable = layers.superposed_kernel(w, a_out, a_k, a_in)
    by_sum = layers.superposed_kernel_by_sum(w, a_out, a_k, a_in)
    np.testing.assert_allclose(separable, by_sum, atol=1e-6)
    # by hand, one entry: the corner (0, 0) lies only in the 7 × 7 crop, channel 20 only in c=32
    scale = a_k[2] * a_out[2] * (a_in[0] + a_in[1] + a_in[2] if with_input_alpha else 1.0)
    np.testing.assert_allclose(separable[0, 0, 0, 20], scale * w[0, 0, 0, 20], rtol=1e-5)
    # the centre and channel 0 are in every choice: the full weight times Σα = 1
    np.testing.assert_allclose(separable[3, 3, 0, 0], w[3, 3, 0, 0], rtol=1e-5)


def test_one_hot_kernel_is_the_centre_cropped_sub_kernel_zero_padded():
    w = np.asarray(jax.random.normal(KEY, (7, 7, 32, 32)))
    for ci, c in enumerate(layers.CHANNELS):
        for ki, k in enumerate(layers.KERNELS):
            for cj, c_in in enumerate(layers.CHANNELS):
                eye = np.eye(3, dtype=np.float32)
                got = layers.superposed_kernel(w, eye[ci], eye[ki], eye[cj])
                s = (7 - k) // 2
                expected = np.zeros_like(w)
                expected[s : s + k, s : s + k, :c_in, :c] = w[s : s + k, s : s + k, :c_in, :c]
                np.testing.assert_array_equal(got, expected)
    b = np.arange(32, dtype=np.float32) + 1
    got = layers.superposed_bias(b, jnp.asarray([0.0, 1.0, 0.0]), jnp.ones(3) / 3, jnp.ones(3) / 3)
    np.testing.assert_allclose(got, np.where(np.arange(32) < 16, b, 0.0), rtol=1e-6)


def test_conv_same_is_lax_conv():
    x = jax.random.normal(KEY, (3, 4, 4, 5))
    for k in (3, 5, 7):
        w = jax.random.normal(jax.random.PRNGKey(k), (k, k, 5, 6))
        expected = jax.lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        np.testing.assert_allclose(layers.conv_same(x, w), expected, atol=1e-4)


@pytest.mark.parametrize("num_layers,indices", [(1, range(9)), (2, (0, 4, 17, 40, 58, 71, 80))])
def test_one_hot_alphas_give_exactly_the_sub_network(num_layers, indices):
    net = layers.SuperNet(num_layers=num_layers)
    x = jax.random.uniform(KEY, (6, 8, 8, 1))
    a_c, a_k = layers.one_hot_alphas(0, num_layers)
    params = net.init(jax.random.PRNGKey(3), x, a_c, a_k)["params"]
    apply = jax.jit(lambda p, x, a_c, a_k: net.apply({"params": p}, x, a_c, a_k))
    for index in indices:
        a_c, a_k = layers.one_hot_alphas(index, num_layers)
        assert int(layers.arch_of_alphas(a_c, a_k)) == index
        np.testing.assert_allclose(
            apply(params, x, a_c, a_k), layers.standalone_apply(params, x, index, num_layers),
            atol=2e-5,
        )  # fmt: skip


def test_masked_channels_are_zero_and_their_weights_do_not_matter():
    net = layers.SuperNet()
    x = jax.random.uniform(KEY, (4, 8, 8, 1))
    index = layers.architectures().index(((0, 1), (1, 0)))  # c8k5-c16k3
    a_c, a_k = layers.one_hot_alphas(index)
    params = net.init(jax.random.PRNGKey(4), x, a_c, a_k)["params"]
    kernel = layers.superposed_kernel(params["conv1_kernel"], a_c[1], a_k[1], a_c[0])
    assert not np.any(kernel[:, :, 8:, :]) and not np.any(kernel[:, :, :, 16:])
    assert not np.any(kernel[:2]) and not np.any(kernel[:, 5:])  # outside the centre 3 × 3
    noise = jax.tree.map(lambda p: 10 * jax.random.normal(KEY, p.shape), params)
    outside = {  # the weights no choice of this architecture reads
        "conv0_kernel": noise["conv0_kernel"].at[1:6, 1:6, :, :8].set(0),
        "conv0_bias": noise["conv0_bias"].at[:8].set(0),
        "conv1_kernel": noise["conv1_kernel"].at[2:5, 2:5, :8, :16].set(0),
        "conv1_bias": noise["conv1_bias"].at[:16].set(0),
        "head_kernel": noise["head_kernel"].reshape(16, 32, 10).at[:, :16].set(0).reshape(512, 10),
        "head_bias": jnp.zeros(10),
    }
    changed = jax.tree.map(jnp.add, params, outside)
    np.testing.assert_allclose(
        net.apply({"params": params}, x, a_c, a_k), net.apply({"params": changed}, x, a_c, a_k),
        atol=1e-5,
    )  # fmt: skip


def test_the_supernet_has_the_largest_architectures_parameter_count():
    for num_layers in (1, 2, 3):
        net = layers.SuperNet(num_layers=num_layers)
        a_c, a_k = layers.one_hot_alphas(0, num_layers)
        shapes = jax.eval_shape(net.init, KEY, jnp.zeros((1, 8, 8, 1)), a_c, a_k)["params"]
        n = len(layers.architectures(num_layers))
        sizes = [layers.standalone_param_count(i, num_layers) for i in range(n)]
        assert layers.param_count(shapes) == max(sizes) == sizes[-1]
    # 2 layers: 7·7·1·32 + 32 + 7·7·32·32 + 32 + 4·4·32·10 + 10
    assert layers.standalone_param_count(80) == 1600 + 50208 + 5130 == 56938


def test_drnas_alphas_are_on_the_simplex_and_differentiable():
    beta = {"channels": jnp.zeros((2, 3)), "kernels": jnp.full((2, 3), 0.5)}
    a_c, a_k = task.alphas(beta, KEY, "drnas")
    np.testing.assert_allclose(a_c.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(a_k.sum(-1), 1.0, rtol=1e-5)
    grad = jax.grad(lambda b: jnp.sum(task.alphas(b, KEY, "drnas")[0][:, 0]))(beta)
    assert np.all(np.isfinite(grad["channels"])) and np.any(grad["channels"] != 0)


def test_a_search_step_updates_arch_on_validation_and_weights_on_training_batches():
    c = config.get_config("method=darts,smoke")
    run = build(c)
    batch = run.batch(jax.random.PRNGKey(1), 0)
    assert batch["x"].shape == (2, c.batch_size, 8, 8, 1)
    val = {tuple(np.asarray(v).ravel()) for v in run.arrays["x_val"]}
    assert all(tuple(np.asarray(v).ravel()) in val for v in batch["x"][0])
    state = run.init_member(jax.random.PRNGKey(2), jax.random.PRNGKey(3))
    new, metrics = run.member_step(state, batch)
    for player in ("model", "arch"):
        moved = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))), new.params[player],
                             state.params[player])  # fmt: skip
        assert max(jax.tree.leaves(moved)) > 0, player
    assert {"grad_norm/arch", "grad_norm/model"} <= metrics.keys()
