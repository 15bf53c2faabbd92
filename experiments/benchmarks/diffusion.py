"""The diffusion core's small UNet, disentax vs the identical PyTorch model, side by side

Both sides build the same 32×32×3 UNet (`disentax.diffusion.denoisers.UNet` with `--channels`,
one residual block per level, self-attention at the lowest resolution and in the middle; the
PyTorch mirror below has the same layers and the same parameter count, asserted) and time, in one
process, interleaved, best of `--repeats`:
- training: one step of the ε-prediction loss (linear schedule, T = 1000) with Adam on random
  images, images/s;
- sampling: 50 deterministic DDIM steps from noise, images/s (`disentax.diffusion.ddim_sample`,
  one `lax.scan`; PyTorch: a loop under `no_grad`).
And the sampler over a population of `--population` denoisers (same architecture, different
weights): one vmapped program against a Python loop over the members' jitted samplers.
Ends with one JSON line (also written to --out). torch is optional: `pip install torch==2.13.0`.
"""

import argparse
import importlib.util
import math
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from common import add_out_argument, write_result

from disentax import diffusion
from disentax.diffusion import denoisers, schedule

SIZE, CHANNELS_IN, T, DDIM_STEPS = 32, 3, 1000, 50


def unet(channels) -> denoisers.UNet:
    return denoisers.UNet(
        channels=tuple(channels), attention_levels=(len(channels) - 1,), num_heads=4,
        embedding_dim=4 * channels[0],
    )  # fmt: skip


def jax_train(model, batch_size: int):
    """A closure running one jitted, donated train step; and the parameter count."""
    noise = schedule.linear(T)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(batch_size, SIZE, SIZE, CHANNELS_IN)))
    params = jax.jit(model.init)(jax.random.key(0), x[:1], jnp.zeros(1, jnp.int32))["params"]
    tx = optax.adam(2e-4)
    state = [(params, tx.init(params), jnp.int32(0))]

    @jax.jit
    def step(state):
        params, opt, i = state
        loss, grads = jax.value_and_grad(diffusion.denoising_loss, has_aux=True)(
            params, {"x": x}, jax.random.fold_in(jax.random.key(1), i), model=model, step=i,
            schedule=noise,
        )  # fmt: skip
        updates, opt = tx.update(grads, opt, params)
        return (optax.apply_updates(params, updates), opt, i + 1), loss[0]

    def run():
        state[0], loss = step(state[0])
        return loss

    return (run, jax.block_until_ready), denoisers.count_parameters(params), params


def jax_sampler(model, noise, batch_size: int):
    """`sample(params) -> x_0` by 50 DDIM steps from fixed noise (not jitted)."""
    x_last = jax.random.normal(jax.random.key(2), (batch_size, SIZE, SIZE, CHANNELS_IN))

    def sample(params):
        eps_fn = diffusion.denoiser(model, params, noise)
        return diffusion.ddim_sample(eps_fn, noise, x_last, DDIM_STEPS)

    return sample


def torch_unet(channels):
    """The PyTorch mirror of `unet(channels)` (NCHW)."""
    import torch
    from torch import nn

    emb_dim = 4 * channels[0]

    def norm(c):
        return nn.GroupNorm(min(8, c), c)

    class ResBlock(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.n1, self.c1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
            self.e = nn.Linear(emb_dim, cout)
            self.n2, self.c2 = norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
            self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

        def forward(self, x, emb):
            h = self.c1(nn.functional.silu(self.n1(x)))
            h = h + self.e(nn.functional.silu(emb))[:, :, None, None]
            h = self.c2(nn.functional.silu(self.n2(h)))
            return self.skip(x) + h

    class Attention(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.n, self.a = norm(c), nn.MultiheadAttention(c, 4, batch_first=True)

        def forward(self, x):
            b, c, h, w = x.shape
            seq = self.n(x).flatten(2).transpose(1, 2)
            return x + self.a(seq, seq, seq, need_weights=False)[0].transpose(1, 2).reshape(x.shape)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            levels = len(channels)
            self.emb = nn.Sequential(
                nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
            )
            self.conv_in = nn.Conv2d(CHANNELS_IN, channels[0], 3, padding=1)
            self.down, skips, c = nn.ModuleList(), [channels[0]], channels[0]
            for level, ch in enumerate(channels):
                attn = Attention(ch) if level == levels - 1 else nn.Identity()
                self.down.append(nn.ModuleList([ResBlock(c, ch), attn]))
                c = ch
                skips.append(c)
                if level < levels - 1:
                    self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                    skips.append(c)
            self.mid = nn.ModuleList([ResBlock(c, c), Attention(c), ResBlock(c, c)])
            self.up = nn.ModuleList()
            for level in reversed(range(levels)):
                ch = channels[level]
                for _ in range(2):
                    attn = Attention(ch) if level == levels - 1 else nn.Identity()
                    self.up.append(nn.ModuleList([ResBlock(c + skips.pop(), ch), attn]))
                    c = ch
                if level > 0:
                    self.up.append(nn.Conv2d(c, c, 3, padding=1))
            self.out = nn.Sequential(norm(c), nn.SiLU(), nn.Conv2d(c, CHANNELS_IN, 3, padding=1))

        def forward(self, x, t):
            half = emb_dim // 2
            freqs = torch.exp(-math.log(10_000.0) * torch.arange(half) / half)
            angles = t.float()[:, None] * freqs[None]
            emb = self.emb(torch.cat([torch.cos(angles), torch.sin(angles)], 1))
            h = self.conv_in(x)
            hs = [h]
            for layer in self.down:
                h = layer[1](layer[0](h, emb)) if isinstance(layer, nn.ModuleList) else layer(h)
                hs.append(h)
            h = self.mid[2](self.mid[1](self.mid[0](h, emb)), emb)
            for layer in self.up:
                if isinstance(layer, nn.ModuleList):
                    h = layer[1](layer[0](torch.cat([h, hs.pop()], 1), emb))
                else:
                    h = layer(nn.functional.interpolate(h, scale_factor=2, mode="nearest"))
            return self.out(h)

    return UNet()


def torch_train(model, batch_size: int):
    import torch

    alpha_bars = torch.tensor(np.asarray(schedule.linear(T).alpha_bars))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    x = torch.from_numpy(
        np.random.default_rng(0)
        .normal(size=(batch_size, CHANNELS_IN, SIZE, SIZE))
        .astype(np.float32)
    )

    def step():
        t = torch.randint(0, T, (batch_size,))
        eps = torch.randn_like(x)
        ab = alpha_bars[t][:, None, None, None]
        loss = ((model(ab.sqrt() * x + (1 - ab).sqrt() * eps, t) - eps) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    return step, lambda loss: loss.item()


def torch_sample(model, batch_size: int):
    import torch

    alpha_bars = np.asarray(schedule.linear(T).alpha_bars, np.float64)
    taus = [i * T // DDIM_STEPS for i in range(DDIM_STEPS)][::-1]
    x_last = torch.randn(batch_size, CHANNELS_IN, SIZE, SIZE)

    @torch.no_grad()
    def sample():
        x = x_last
        for i, t in enumerate(taus):
            ab = alpha_bars[t]
            ab_prev = alpha_bars[taus[i + 1]] if i + 1 < len(taus) else 1.0
            eps = model(x, torch.full((batch_size,), t))
            x0 = (x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
            x = math.sqrt(ab_prev) * x0 + math.sqrt(1 - ab_prev) * eps
        return x

    return sample, lambda x: x.sum().item()


def per_s(make, count: int, calls: int) -> float:
    run, sync = make
    sync(run())
    start = time.perf_counter()
    for _ in range(calls):
        out = run()
    sync(out)
    return count * calls / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--sample-batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--population", type=int, default=8)
    add_out_argument(parser, "diffusion")
    args = parser.parse_args()
    have_torch = importlib.util.find_spec("torch") is not None
    if not have_torch:
        print("torch is not installed (pip install torch==2.13.0): disentax only")

    model = unet(args.channels)
    noise = schedule.linear(T)
    train, num_params, params = jax_train(model, args.batch)
    sample = jax.jit(jax_sampler(model, noise, args.sample_batch))
    runs = {
        "train_disentax": (train, args.batch, args.steps),
        "sample_disentax": ((lambda: sample(params), jax.block_until_ready), args.sample_batch, 1),
    }
    result = {"device": jax.devices()[0].device_kind, "parameters": num_params, **vars(args)}
    result.pop("out")
    if have_torch:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        peer = torch_unet(args.channels)
        assert sum(p.numel() for p in peer.parameters()) == num_params  # the same network
        runs["train_torch"] = (torch_train(peer, args.batch), args.batch, args.steps)
        runs["sample_torch"] = (torch_sample(peer, args.sample_batch), args.sample_batch, 1)

    # the population's sampler: one vmapped program vs a loop over members
    keys = jax.random.split(jax.random.key(3), args.population)
    x1 = jnp.zeros((1, SIZE, SIZE, CHANNELS_IN))
    population = jax.vmap(lambda k: model.init(k, x1, jnp.zeros(1, jnp.int32))["params"])(keys)
    vmapped = jax.jit(jax.vmap(jax_sampler(model, noise, args.sample_batch)))
    members = [jax.tree.map(lambda p, i=i: p[i], population) for i in range(args.population)]
    images = args.population * args.sample_batch
    runs["population_vmapped"] = ((lambda: vmapped(population), jax.block_until_ready), images, 1)
    runs["population_looped"] = (
        (lambda: [sample(m) for m in members], jax.block_until_ready), images, 1,
    )  # fmt: skip

    best = dict.fromkeys(runs, 0.0)
    for _ in range(args.repeats):  # interleaved; best of each, the shared cores are noisy
        for name, (make, count, calls) in runs.items():
            best[name] = max(best[name], per_s(make, count, calls))
    for name, value in best.items():
        result[f"images_per_s_{name}"] = value
        print(f"{name:20s} {value:8.2f} images/s")
    ratios = {"population_vmapped_over_looped": ("population_vmapped", "population_looped")}
    if have_torch:
        ratios |= {
            "train_disentax_over_torch": ("train_disentax", "train_torch"),
            "sample_disentax_over_torch": ("sample_disentax", "sample_torch"),
        }
    for name, (a, b) in ratios.items():
        result[name] = best[a] / best[b]
        print(f"{name:32s} {result[name]:.2f}")
    write_result(args.out, result)


if __name__ == "__main__":
    main()
