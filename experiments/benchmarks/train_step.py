"""disentanglement_lib's β-VAE train step, disentax vs the identical PyTorch model, side by side

Both sides train the same network (conv_encoder / deconv_decoder, 10 latents, Bernoulli loss
summed over pixels, KL, Adam 1e-4) on the same random binary images, on this machine's cores, in
one process, interleaved. Prints images/s, the ratio disentax / torch and the achieved GFLOP/s
(FLOPs counted from the layer shapes: 2 per multiply-add, forward + backward = 3 × forward), and
ends with one JSON line (also written to --out). torch is optional: `pip install torch==2.13.0`.
disentax runs as it trains (sub-pixel transposed convolutions in the decoder, XLA's strided
convolutions in the encoder), with the decoder's as XLA's transposed convolution
(`disentax_lax_convT`), and with the encoder's strided convolutions differentiated in the sub-pixel
form (`disentax_subpixel_strided`, the model's `strided_conv="subpixel"`; `disentax.models.layers`).
"""

import argparse
import importlib.util
import os
import time

import jax
import numpy as np
from common import add_out_argument, beta_vae_run, write_result

# (multiply-adds per image) of each layer: output pixels × taps × in × out / stride² for ConvT.
LAYER_MACS = {
    "e1": 32 * 32 * 32 * 4 * 4 * 1,
    "e2": 16 * 16 * 32 * 4 * 4 * 32,
    "e3": 8 * 8 * 64 * 2 * 2 * 32,
    "e4": 4 * 4 * 64 * 2 * 2 * 64,
    "e5": 1024 * 256,
    "heads": 2 * 256 * 10,
    "d1": 10 * 256,
    "d2": 256 * 1024,
    "d3": 8 * 8 * 64 * 4 * 4 * 64 // 4,
    "d4": 16 * 16 * 32 * 4 * 4 * 64 // 4,
    "d5": 32 * 32 * 32 * 4 * 4 * 32 // 4,
    "d6": 64 * 64 * 1 * 4 * 4 * 32 // 4,
}
FLOPS_PER_IMAGE = 3 * 2 * sum(LAYER_MACS.values())


def binary_images(batch_size: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(size=(batch_size, 64, 64, 1)) > 0.9).astype(
        np.float32
    )


def disentax_step(batch_size: int, transposed_conv: str, strided_conv: str = "lax"):
    """A closure running one jitted, donated train step of the default β-VAE config."""
    run = beta_vae_run(batch_size, transposed_conv, strided_conv)
    state = [run.init_state()]
    batch = jax.device_put({"image": binary_images(batch_size)})

    def step():
        state[0], metrics = run.step_fn(state[0], batch)
        return metrics

    return step, lambda m: jax.block_until_ready(m)


def torch_vae(batch_size: int):
    """disentanglement_lib's network in PyTorch (NCHW; TF SAME = padding 1 for k4 s2)."""
    from torch import nn

    encoder = nn.Sequential(
        nn.Conv2d(1, 32, 4, 2, 1),
        nn.ReLU(),
        nn.Conv2d(32, 32, 4, 2, 1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 2, 2),
        nn.ReLU(),
        nn.Conv2d(64, 64, 2, 2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(1024, 256),
        nn.ReLU(),
        nn.Linear(256, 20),
    )  # one Linear(256, 20) = the two Linear(256, 10) heads, split below
    decoder = nn.Sequential(
        nn.Linear(10, 256),
        nn.ReLU(),
        nn.Linear(256, 1024),
        nn.ReLU(),
        nn.Unflatten(1, (64, 4, 4)),
        nn.ConvTranspose2d(64, 64, 4, 2, 1),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, 2, 1),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 32, 4, 2, 1),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, 2, 1),
    )
    step = torch_step(batch_size, lambda x: encoder(x).chunk(2, dim=1), encoder, decoder)
    assert torch_flops_per_image(encoder, decoder) == FLOPS_PER_IMAGE  # same network, same count
    return step


def torch_flops_per_image(encoder, decoder) -> int:
    """3 × 2 × the multiply-adds of every Conv2d / ConvTranspose2d / Linear, found by hooks."""
    import torch
    from torch import nn

    macs = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            taps = module.in_channels // module.groups * np.prod(module.kernel_size)
            macs.append(output[0].numel() * taps)
        elif isinstance(module, nn.ConvTranspose2d):
            macs.append(inputs[0][0].numel() * module.out_channels * np.prod(module.kernel_size))
        elif isinstance(module, nn.Linear):
            macs.append(module.in_features * module.out_features)

    handles = [m.register_forward_hook(hook) for m in (*encoder.modules(), *decoder.modules())]
    with torch.no_grad():
        decoder(torch.zeros(1, 10))
        encoder(torch.zeros(1, 1, 64, 64))
    for h in handles:
        h.remove()
    return 3 * 2 * int(sum(macs))


def disent_vae(batch_size: int):
    """disent's own EncoderConv64 / DecoderConv64 (the β-VAE of disent 0.8), same loss and Adam."""
    from disent.model.ae import DecoderConv64, EncoderConv64

    encoder = EncoderConv64(x_shape=(1, 64, 64), z_size=10, z_multiplier=2)
    decoder = DecoderConv64(x_shape=(1, 64, 64), z_size=10)
    return torch_step(batch_size, encoder, encoder, decoder), torch_flops_per_image(
        encoder, decoder
    )


def torch_step(batch_size: int, encode, encoder, decoder):
    """A closure running one PyTorch step: Bernoulli (summed) + KL, averaged over the batch."""
    import torch
    from torch import nn

    torch.set_num_threads(os.cpu_count() or 1)
    params = [*encoder.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-4)
    x = torch.from_numpy(binary_images(batch_size).transpose(0, 3, 1, 2).copy())

    def step():
        mu, logvar = encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = decoder(z)
        recon = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = 0.5 * torch.sum(mu**2 + logvar.exp() - logvar - 1)
        loss = (recon + kl) / batch_size
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    return step, lambda loss: loss.item()


def images_per_s(make, batch_size: int, steps: int) -> float:
    step, sync = make
    sync(step())
    sync(step())  # compile / warm-up
    start = time.perf_counter()
    for _ in range(steps):
        out = step()
    sync(out)
    return batch_size * steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    add_out_argument(parser, "train_step")
    args = parser.parse_args()
    have_torch = importlib.util.find_spec("torch") is not None
    have_disent = have_torch and importlib.util.find_spec("disent") is not None
    if not have_torch:
        print("torch is not installed (pip install torch==2.13.0): disentax only")
    elif not have_disent:
        print("disent is not installed (pip install --no-deps disent==0.8.0 lightning): skipped")

    result = {"device": jax.devices()[0].device_kind, "flops_per_image": FLOPS_PER_IMAGE}
    for b in args.batches:
        makers = {  # name -> (step closure, FLOPs per image)
            "disentax": (disentax_step(b, "subpixel"), FLOPS_PER_IMAGE),
            "disentax_lax_convT": (disentax_step(b, "lax"), FLOPS_PER_IMAGE),
            "disentax_subpixel_strided": (
                disentax_step(b, "subpixel", "subpixel"),
                FLOPS_PER_IMAGE,
            ),
        }
        if have_torch:
            makers["torch"] = (torch_vae(b), FLOPS_PER_IMAGE)
        if have_disent:
            makers["disent"] = disent_vae(b)
            result["flops_per_image_disent"] = makers["disent"][1]
        best = {name: 0.0 for name in makers}
        steps = max(2, args.steps * 64 // b)
        for _ in range(args.repeats):  # interleaved; best of each, the shared cores are noisy
            for name, (make, _) in makers.items():
                best[name] = max(best[name], images_per_s(make, b, steps))
        for name, value in best.items():
            result[f"images_per_s_{name}_b{b}"] = value
            gflops = value * makers[name][1] / 1e9
            print(f"batch {b:4d}  {name:20s} {value:8.1f} images/s  {gflops:6.1f} GFLOP/s")
        if have_torch:
            result[f"ratio_b{b}"] = best["disentax"] / best["torch"]
            print(f"batch {b:4d}  ratio disentax / torch = {result[f'ratio_b{b}']:.2f}")
    write_result(args.out, result)


if __name__ == "__main__":
    main()
