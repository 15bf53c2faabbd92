"""Where the β-VAE step's time goes: every convolution's forward, input gradient and kernel
gradient, XLA:CPU (as disentax computes it) vs PyTorch (as the identical torch model does), per op

The encoder's four strided convolutions are the same op on both sides. The decoder's stride-2
4×4 transposed convolutions are, in disentax, the exact sub-pixel form (a 3×3 stride-1
convolution to 4F channels, then depth-to-space; `disentax.models.layers`) and, in PyTorch,
`ConvTranspose2d` (oneDNN). Each op is timed alone after compilation (best of interleaved
repeats), so the table shows which kernels make the difference between the two whole steps
measured by `train_step.py`. Ends with one JSON line (also written to --out).

    python experiments/benchmarks/conv_ops.py [--batch 64] [--repeats 5]
"""

import argparse
import os
import time

import jax
import jax.numpy as jnp
from common import add_out_argument, write_result

from disentax.models.layers import depth_to_space, subpixel_kernel

# name -> (input H = W, in channels, out channels, kernel, stride, transposed)
LAYERS = {
    "e1": (64, 1, 32, 4, 2, False),
    "e2": (32, 32, 32, 4, 2, False),
    "e3": (16, 32, 64, 2, 2, False),
    "e4": (8, 64, 64, 2, 2, False),
    "d3": (4, 64, 64, 4, 2, True),
    "d4": (8, 64, 32, 4, 2, True),
    "d5": (16, 32, 32, 4, 2, True),
    "d6": (32, 32, 1, 4, 2, True),
}
PASSES = ("forward", "input_grad", "kernel_grad")


def xla_layer(hw, cin, cout, k, stride, transposed):
    """`y(x, kernel)` as disentax computes the layer (TF SAME padding; sub-pixel for ConvT)."""
    if transposed:

        def apply(x, kernel):  # kernel [4, 4, F, C], as nn.ConvTranspose(transpose_kernel=True)
            y = jax.lax.conv_general_dilated(
                x,
                subpixel_kernel(kernel),
                (1, 1),
                ((1, 1), (1, 1)),
                dimension_numbers=("NHWC", "HWIO", "NHWC"),
            )
            return depth_to_space(y)

        return apply, (k, k, cout, cin)

    def apply(x, kernel):
        return jax.lax.conv_general_dilated(
            x, kernel, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )

    return apply, (k, k, cin, cout)


def xla_passes(batch, layer):
    """Jitted closures of the three passes on random inputs: name -> zero-argument callable."""
    hw, cin, *_ = layer
    apply, kernel_shape = xla_layer(*layer)
    kx, kw = jax.random.split(jax.random.key(0))
    x = jax.random.normal(kx, (batch, hw, hw, cin))
    kernel = jax.random.normal(kw, kernel_shape) * 0.1
    y = apply(x, kernel)
    dy = jnp.ones_like(y)
    forward = jax.jit(apply)
    input_grad = jax.jit(lambda x, w, dy: jax.vjp(lambda x: apply(x, w), x)[1](dy)[0])
    kernel_grad = jax.jit(lambda x, w, dy: jax.vjp(lambda w: apply(x, w), w)[1](dy)[0])
    return {
        "forward": lambda: forward(x, kernel).block_until_ready(),
        "input_grad": lambda: input_grad(x, kernel, dy).block_until_ready(),
        "kernel_grad": lambda: kernel_grad(x, kernel, dy).block_until_ready(),
    }


def torch_passes(batch, layer):
    """The same three passes of the torch model's layer via `aten.convolution_backward`."""
    import torch

    hw, cin, cout, k, stride, transposed = layer
    torch.set_num_threads(os.cpu_count() or 1)
    padding = 1 if k == 4 else 0  # TF SAME for these shapes
    x = torch.randn(batch, cin, hw, hw)
    w = torch.randn(*((cin, cout) if transposed else (cout, cin)), k, k) * 0.1

    def forward():
        with torch.no_grad():
            if transposed:
                return torch.nn.functional.conv_transpose2d(x, w, None, stride, padding)
            return torch.nn.functional.conv2d(x, w, None, stride, padding)

    dy = torch.ones_like(forward())

    def backward(mask):
        return torch.ops.aten.convolution_backward(
            dy, x, w, None, [stride] * 2, [padding] * 2, [1, 1], transposed, [0, 0], 1, mask
        )

    return {
        "forward": forward,
        "input_grad": lambda: backward([True, False, False]),
        "kernel_grad": lambda: backward([False, True, False]),
    }


def best_ms(fn, repeats: int, inner: int = 10) -> float:
    fn()
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return 1e3 * best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    add_out_argument(parser, "conv_ops")
    args = parser.parse_args()
    result = {"device": jax.devices()[0].device_kind, "batch": args.batch, "ms": {}}
    totals = {"xla": 0.0, "torch": 0.0}
    print(f"batch {args.batch}: ms per op (best of {args.repeats})")
    print(f"{'layer':6s} {'pass':12s} {'xla':>8s} {'torch':>8s} {'xla/torch':>10s}")
    for name, layer in LAYERS.items():
        sides = {"xla": xla_passes(args.batch, layer), "torch": torch_passes(args.batch, layer)}
        for p in PASSES:
            ms = {side: best_ms(passes[p], args.repeats) for side, passes in sides.items()}
            for side in ms:
                totals[side] += ms[side]
            result["ms"][f"{name}_{p}"] = ms
            ratio = ms["xla"] / ms["torch"]
            print(f"{name:6s} {p:12s} {ms['xla']:8.2f} {ms['torch']:8.2f} {ratio:10.2f}")
    result["total_ms"] = totals
    print(
        f"{'all':6s} {'':12s} {totals['xla']:8.2f} {totals['torch']:8.2f} "
        f"{totals['xla'] / totals['torch']:10.2f}"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
