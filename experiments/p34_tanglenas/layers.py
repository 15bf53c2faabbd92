"""TangleNAS's weight superposition for a conv-macro search space (the official
`toy_search_spaces/conv_macro/mixture_operations.py`, `ConvMixture*`, re-derived in JAX).

One weight tensor per layer, the largest choice's: W `[K, K, C_in, C_out]` (HWIO), K = max
kernel, C = max channels. A choice (c_out, k) of a layer (and c_in of the layer before) is the
sub-tensor W[centre k × k, :c_in, :c_out]; zero-padded back to W's shape it is W ⊙ M with the
separable mask M = m_k ⊗ m_in ⊗ m_out (centre square, first c_in, first c_out). Superposition
mixes the padded sub-kernels with the product of the per-dimension architecture weights
(the official "combi" weights α_ij = α^chan_i · α^kern_j), then runs one convolution:

    W_mix = Σ_{a,b,j} α^in_a α^out_b α^k_j · pad(W[crop k_j, :c_a, :c_b])
          = W ⊙ (Σ_j α^k_j m_{k_j}) ⊗ (Σ_a α^in_a m_{c_a}) ⊗ (Σ_b α^out_b m_{c_b}),
    b_mix = Σ_{a,b,j} α^in_a α^out_b α^k_j · pad(b[:c_b]) = b ⊙ (Σ_b α^out_b m_{c_b})·Σα^in·Σα^k.

`superposed_kernel` computes the separable form, `superposed_kernel_by_sum` the official triple
sum (the tests check they agree). One-hot α gives exactly the chosen sub-network: a centre k × k
kernel padded with zeros to K × K under "SAME" padding is the k × k convolution with padding
(k − 1)/2, and masked output channels are exactly zero.
"""

import itertools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

CHANNELS = (8, 16, 32)
KERNELS = (3, 5, 7)
NUM_LAYERS = 2
CLASSES = 10
IMAGE = 8  # load_digits: 8 × 8 × 1
POOLED = IMAGE // 2  # one 2 × 2 max-pool after the first layer


# --- masks and the superposed kernel


def channel_masks(choices, size: int) -> jax.Array:
    """`[len(choices), size]`: row i is 1 on the first choices[i] channels."""
    return (jnp.arange(size)[None, :] < jnp.asarray(choices)[:, None]).astype(jnp.float32)


def kernel_masks(choices, size: int) -> jax.Array:
    """`[len(choices), size, size]`: row i is 1 on the centred choices[i] × choices[i] square
    (offset (size − k) // 2, as the official crop `start:start+k`)."""
    rows = []
    for k in choices:
        start = (size - k) // 2
        m = np.zeros((size, size), np.float32)
        m[start : start + k, start : start + k] = 1.0
        rows.append(m)
    return jnp.asarray(np.stack(rows))


def superposed_kernel(w, alpha_out, alpha_k, alpha_in=None, *, channels=CHANNELS, kernels=KERNELS):
    """W_mix = W ⊙ (α^k·M_k) ⊗ (α^in·M_in) ⊗ (α^out·M_out) (module docstring); `w` `[K, K, C_in,
    C_out]`, α's `[n]`; `alpha_in` None: the input channels are not searched (first layer)."""
    size, _, c_in, c_out = w.shape
    m_k = jnp.einsum("j,jhw->hw", alpha_k, kernel_masks(kernels, size))
    m_out = alpha_out @ channel_masks(channels, c_out)
    m_in = jnp.ones(c_in) if alpha_in is None else alpha_in @ channel_masks(channels, c_in)
    return w * m_k[:, :, None, None] * m_in[None, None, :, None] * m_out


def superposed_bias(b, alpha_out, alpha_k, alpha_in=None, *, channels=CHANNELS):
    """b_mix = b ⊙ (α^out·M_out) · Σα^k · Σα^in (the official sum of α-weighted padded biases)."""
    scale = jnp.sum(alpha_k) * (1.0 if alpha_in is None else jnp.sum(alpha_in))
    return b * (alpha_out @ channel_masks(channels, b.shape[0])) * scale


def superposed_kernel_by_sum(w, alpha_out, alpha_k, alpha_in=None, *, channels=CHANNELS,
                             kernels=KERNELS):  # fmt: skip
    """The official definition, term by term: Σ α^in_a α^out_b α^k_j · pad(W[crop k_j, :c_a,
    :c_b]) with each sub-kernel sliced out and zero-padded back to W's shape."""
    size, _, c_in, c_out = w.shape
    ins = [(1.0, c_in)] if alpha_in is None else list(zip(alpha_in, channels, strict=True))
    total = jnp.zeros_like(w)
    for (a_in, ci), (a_out, co), (a_k, k) in itertools.product(
        ins, zip(alpha_out, channels, strict=True), zip(alpha_k, kernels, strict=True)
    ):
        s = (size - k) // 2
        sub = w[s : s + k, s : s + k, :ci, :co]
        pad = ((s, size - s - k), (s, size - s - k), (0, c_in - ci), (0, c_out - co))
        total = total + a_in * a_out * a_k * jnp.pad(sub, pad)
    return total


# --- architectures


def architectures(num_layers: int = NUM_LAYERS) -> list[tuple[tuple[int, int], ...]]:
    """Every architecture as ((channel index, kernel index) per layer), in index order
    (`arch_index`): |space| = (|CHANNELS|·|KERNELS|)^layers = 81 for 2 layers."""
    per_layer = list(itertools.product(range(len(CHANNELS)), range(len(KERNELS))))
    return list(itertools.product(per_layer, repeat=num_layers))


def describe(index: int, num_layers: int = NUM_LAYERS) -> str:
    """'c16k5-c32k3': each layer's channels and kernel."""
    arch = architectures(num_layers)[index]
    return "-".join(f"c{CHANNELS[c]}k{KERNELS[k]}" for c, k in arch)


def one_hot_alphas(index, num_layers: int = NUM_LAYERS) -> tuple[jax.Array, jax.Array]:
    """(α^chan `[L, 3]`, α^kern `[L, 3]`) one-hot for architecture `index` (traceable): layer l's
    choice is digit l (most significant first) of `index` in base |CHANNELS|·|KERNELS|."""
    index = jnp.asarray(index).astype(jnp.int32)
    per = len(CHANNELS) * len(KERNELS)
    digits = jnp.stack([(index // per ** (num_layers - 1 - i)) % per for i in range(num_layers)])
    return (
        jax.nn.one_hot(digits // len(KERNELS), len(CHANNELS)),
        jax.nn.one_hot(digits % len(KERNELS), len(KERNELS)),
    )


def arch_of_alphas(alpha_c, alpha_k) -> int:
    """The architecture index of the argmax of each layer's α (the final architecture); numpy,
    on concrete α's."""
    digits = np.argmax(np.asarray(alpha_c), -1) * len(KERNELS) + np.argmax(np.asarray(alpha_k), -1)
    per = len(CHANNELS) * len(KERNELS)
    num_layers = len(digits)
    return int(sum(int(digits[i]) * per ** (num_layers - 1 - i) for i in range(num_layers)))


# --- the supernet


def conv_same(x: jax.Array, w: jax.Array) -> jax.Array:
    """Stride-1 "SAME" convolution (odd K) as one matmul of K² shifted copies (im2col): x `[B, H,
    W, C]`, w `[K, K, C, O]` -> `[B, H, W, O]`. On XLA:CPU several times faster than
    `lax.conv_general_dilated` for these tiny images, gradients included."""
    k = w.shape[0]
    p = k // 2
    b, h, wd, c = x.shape
    xp = jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    patches = jnp.stack([xp[:, i : i + h, j : j + wd] for i in range(k) for j in range(k)], axis=3)
    return patches.reshape(b, h, wd, k * k * c) @ w.reshape(k * k * c, -1)


class SuperNet(nn.Module):
    """conv(c_1, k_1) → ReLU → 2×2 max-pool → conv(c_2, k_2) → ReLU → flatten → dense(10), every
    conv a superposition over (c, k) (module docstring) and the head's inputs masked by the last
    layer's channel weights (the official `ConvMixtureFixedOutCh`, bias unmixed). Parameters:
    one weight tensor per layer at the largest choice; x `[B, 8, 8, 1]`, α's `[L, 3]`."""

    num_layers: int = NUM_LAYERS

    @nn.compact
    def __call__(self, x, alpha_c, alpha_k):
        k_max, c_max = max(KERNELS), max(CHANNELS)
        c_in, a_in = x.shape[-1], None
        for layer in range(self.num_layers):
            w = self.param(
                f"conv{layer}_kernel",
                nn.initializers.lecun_normal(),
                (k_max, k_max, c_in, c_max),
            )
            b = self.param(f"conv{layer}_bias", nn.initializers.zeros, (c_max,))
            kernel = superposed_kernel(w, alpha_c[layer], alpha_k[layer], a_in)
            bias = superposed_bias(b, alpha_c[layer], alpha_k[layer], a_in)
            x = nn.relu(conv_same(x, kernel) + bias)
            if layer == 0:
                x = nn.max_pool(x, (2, 2), (2, 2))
            c_in, a_in = c_max, alpha_c[layer]
        head = self.param(
            "head_kernel", nn.initializers.lecun_normal(), (POOLED * POOLED * c_max, CLASSES)
        )
        head_bias = self.param("head_bias", nn.initializers.zeros, (CLASSES,))
        m_in = a_in @ channel_masks(CHANNELS, c_max)
        head = (head.reshape(POOLED * POOLED, c_max, CLASSES) * m_in[None, :, None]).reshape(
            head.shape
        )
        return x.reshape(x.shape[0], -1) @ head + head_bias


def standalone_apply(params, x, index: int, num_layers: int = NUM_LAYERS) -> jax.Array:
    """Architecture `index` as a network of its own sizes: each conv with its k × k kernel (the
    centre of the supernet's), c_in and c_out channels and padding (k − 1)/2; the head reads
    only the c_L channels. The reference that one-hot superposition must equal."""
    arch = architectures(num_layers)[index]
    k_max = max(KERNELS)
    c_prev = x.shape[-1]
    for layer, (ci, ki) in enumerate(arch):
        c, k = CHANNELS[ci], KERNELS[ki]
        s = (k_max - k) // 2
        w = params[f"conv{layer}_kernel"][s : s + k, s : s + k, :c_prev, :c]
        p = (k - 1) // 2
        x = jax.lax.conv_general_dilated(
            x, w, (1, 1), ((p, p), (p, p)), dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        x = nn.relu(x + params[f"conv{layer}_bias"][:c])
        if layer == 0:
            x = nn.max_pool(x, (2, 2), (2, 2))
        c_prev = c
    c_max = max(CHANNELS)
    head = params["head_kernel"].reshape(POOLED * POOLED, c_max, CLASSES)[:, :c_prev]
    return x.reshape(x.shape[0], -1) @ head.reshape(-1, CLASSES) + params["head_bias"]


def standalone_param_count(index: int, num_layers: int = NUM_LAYERS) -> int:
    """Parameters of architecture `index` built at its own sizes."""
    total, c_prev = 0, 1
    for ci, ki in architectures(num_layers)[index]:
        c, k = CHANNELS[ci], KERNELS[ki]
        total += k * k * c_prev * c + c
        c_prev = c
    return total + POOLED * POOLED * c_prev * CLASSES + CLASSES


def param_count(params) -> int:
    return int(sum(np.prod(p.shape) for p in jax.tree.leaves(params)))
