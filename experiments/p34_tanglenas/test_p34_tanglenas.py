"""P34's mechanism in closed form: the superposed kernel is the α-weighted sum of the zero-padded,
centre-cropped sub-kernels (and a separable mask of W); one-hot α gives exactly the sub-network
(an independent `lax.conv` at its own sizes); masked channels are exactly zero and their weights
do not matter; the supernet holds as many weights as the largest architecture; the search task's
step reads a validation batch for the architecture and a training batch for the weights. Every
computation is jitted: eager JAX ops each compile a program of their own on CPU."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disentax.train import build
from experiments.p34_tanglenas import config, layers, task

KEY = jax.random.PRNGKey(0)
superposed_kernel = jax.jit(layers.superposed_kernel)
superposed_kernel_by_sum = jax.jit(layers.superposed_kernel_by_sum)


def random_params(num_layers: int, seed: int) -> dict:
    """The supernet's params drawn in numpy (biases non-zero), without compiling its init."""
    net = layers.SuperNet(num_layers=num_layers)
    a_c, a_k = layers.one_hot_alphas(0, num_layers)
    shapes = jax.eval_shape(net.init, KEY, jnp.zeros((1, 8, 8, 1)), a_c, a_k)["params"]
    rng = np.random.RandomState(seed)

    def draw(shape):
        fan_in = np.prod(shape.shape[:-1]) if len(shape.shape) > 1 else 10.0
        return (rng.normal(size=shape.shape) / np.sqrt(fan_in)).astype(np.float32)

    return jax.tree.map(draw, shapes)


def random_simplex(key, n=3):
    return jax.random.dirichlet(key, jnp.ones(len(layers.CHANNELS)), (n,))


@pytest.mark.parametrize("with_input_alpha", [False, True])
def test_superposed_kernel_is_the_alpha_weighted_sum_of_padded_sub_kernels(with_input_alpha):
    w = jax.random.normal(KEY, (7, 7, 32 if with_input_alpha else 1, 32))
    a_out, a_k, a_in = random_simplex(jax.random.PRNGKey(1))
    a_in = a_in if with_input_alpha else None
    separable = np.asarray(superposed_kernel(w, a_out, a_k, a_in))
    by_sum = superposed_kernel_by_sum(w, a_out, a_k, a_in)
    np.testing.assert_allclose(separable, by_sum, atol=1e-6)
    w, a_out, a_k = np.asarray(w), np.asarray(a_out), np.asarray(a_k)
    a_in = None if a_in is None else np.asarray(a_in)
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
                got = superposed_kernel(w, eye[ci], eye[ki], eye[cj])
                s = (7 - k) // 2
                expected = np.zeros_like(w)
                expected[s : s + k, s : s + k, :c_in, :c] = w[s : s + k, s : s + k, :c_in, :c]
                np.testing.assert_array_equal(got, expected)
    b = np.arange(32, dtype=np.float32) + 1
    got = jax.jit(layers.superposed_bias)(b, np.asarray([0.0, 1.0, 0.0]), np.ones(3) / 3,
                                          np.ones(3) / 3)  # fmt: skip
    np.testing.assert_allclose(got, np.where(np.arange(32) < 16, b, 0.0), rtol=1e-6)


def test_conv_same_is_lax_conv():
    rng = np.random.RandomState(0)
    x = rng.normal(size=(3, 4, 4, 5)).astype(np.float32)
    ws = [rng.normal(size=(k, k, 5, 6)).astype(np.float32) for k in (3, 5, 7)]

    @jax.jit
    def both(x, ws):
        lax = [
            jax.lax.conv_general_dilated(
                x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
            for w in ws
        ]
        return [layers.conv_same(x, w) for w in ws], lax

    ours, expected = both(x, ws)
    np.testing.assert_allclose(ours, expected, atol=1e-4)


# 1 layer: each channel and kernel; 2 layers: every channel and kernel in each layer, with more,
# fewer and as many input channels as output channels.
@pytest.mark.parametrize("num_layers,indices", [(1, (0, 4, 8)), (2, (0, 17, 40, 58, 80))])
def test_one_hot_alphas_give_exactly_the_sub_network(num_layers, indices):
    net = layers.SuperNet(num_layers=num_layers)
    x = np.random.RandomState(0).uniform(size=(6, 8, 8, 1)).astype(np.float32)
    params = random_params(num_layers, 3)
    alphas = [layers.one_hot_alphas(index, num_layers) for index in indices]
    a_c, a_k = (np.stack([np.asarray(a[i]) for a in alphas]) for i in (0, 1))

    @jax.jit
    def both(params, x):  # the supernet at each one-hot α (vmapped), each architecture alone
        superposed = jax.vmap(lambda c, k: net.apply({"params": params}, x, c, k))(a_c, a_k)
        return superposed, [layers.standalone_apply(params, x, i, num_layers) for i in indices]

    superposed, alone = both(params, x)
    for i, index in enumerate(indices):
        assert layers.arch_of_alphas(a_c[i], a_k[i]) == index
        np.testing.assert_allclose(superposed[i], alone[i], atol=2e-5)


def test_masked_channels_are_zero_and_their_weights_do_not_matter():
    net = layers.SuperNet()
    x = np.random.RandomState(1).uniform(size=(4, 8, 8, 1)).astype(np.float32)
    index = layers.architectures().index(((0, 1), (1, 0)))  # c8k5-c16k3
    a_c, a_k = (np.asarray(a) for a in layers.one_hot_alphas(index))
    params = random_params(2, 4)
    kernel = np.asarray(superposed_kernel(params["conv1_kernel"], a_c[1], a_k[1], a_c[0]))
    assert not np.any(kernel[:, :, 8:, :]) and not np.any(kernel[:, :, :, 16:])
    assert not np.any(kernel[:2]) and not np.any(kernel[:, 5:])  # outside the centre 3 × 3
    rng = np.random.RandomState(0)
    noise = jax.tree.map(lambda p: 10 * rng.normal(size=p.shape).astype(np.float32), params)
    noise["conv0_kernel"][1:6, 1:6, :, :8] = 0  # zero where this architecture reads weights
    noise["conv0_bias"][:8] = 0
    noise["conv1_kernel"][2:5, 2:5, :8, :16] = 0
    noise["conv1_bias"][:16] = 0
    noise["head_kernel"].reshape(16, 32, 10)[:, :16] = 0
    noise["head_bias"][:] = 0
    apply = jax.jit(lambda p: net.apply({"params": p}, x, a_c, a_k))
    changed = jax.tree.map(np.add, params, noise)
    np.testing.assert_allclose(apply(params), apply(changed), atol=1e-5)


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
    (a_c, a_k), grad = jax.jit(
        lambda b: (task.alphas(b, KEY, "drnas"),
                   jax.grad(lambda b: jnp.sum(task.alphas(b, KEY, "drnas")[0][:, 0]))(b))
    )(beta)  # fmt: skip
    np.testing.assert_allclose(a_c.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(a_k.sum(-1), 1.0, rtol=1e-5)
    assert np.all(np.isfinite(grad["channels"])) and np.any(grad["channels"] != 0)


def test_a_search_batch_stacks_a_validation_then_a_training_batch():
    """The arch player reads batch 0 (validation), the weights batch 1 (training): the task's
    `SEARCH_OBJECTIVE`; that both players move in a step is checked by the smoke run."""
    assert task.SEARCH_OBJECTIVE["schedule"] == (("arch",), ("model",))
    assert task.SEARCH_OBJECTIVE["batch_index"] == (0, 1)
    c = config.get_config("method=darts,smoke")
    run = build(c)
    batch = jax.jit(run.batch, static_argnums=1)(jax.random.PRNGKey(1), 0)
    assert batch["x"].shape == (2, c.batch_size, 8, 8, 1)
    for part, split in ((0, "x_val"), (1, "x_train")):
        rows = {tuple(v.ravel()) for v in np.asarray(run.arrays[split])}
        assert all(tuple(v.ravel()) in rows for v in np.asarray(batch["x"][part])), split
