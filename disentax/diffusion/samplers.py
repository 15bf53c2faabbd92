"""Samplers as `lax.scan` loops over steps, pure in (denoiser, schedule, key): they jit, and vmap
over a population of denoisers (a vmapped closure over stacked params).

A denoiser here is `eps_fn(x_t, t) -> ε̂`, t `[B]` int32 (`denoiser` builds one from a Linen model
of any parameterisation, with classifier-free guidance). With x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t
(optionally clipped to [−c, c], ε̂ then re-derived from it):

- DDPM ancestral (Ho et al. 2020): x_{t−1} = μ̃_t(x̂_0, x_t) + σ_t z_t, z_t ~ N(0, I) for t > 0 and
  z_0 = 0, σ_t² "small" (β̃_t) or "large" (β_t) (`Schedule.reverse_variance`).
- DPM-Encoder (Wu & De la Torre 2023, CycleDiffusion): x_0 ↦ (x_{T−1}, z_{T−1..0}) with
  x_{0..T−1} ~ q(x_{1:T} | x_0) by the forward chain x_t = √(1 − β_t) x_{t−1} + √β_t ε_t and
  z_t = (x_{t−1} − μ̃_t(x̂_0(x_t), x_t)) / σ_t; `ddpm_decode` of that latent gives x_0 back.
- DDIM (Song et al. 2021) on S steps τ_i = ⌊i·T/S⌋: from t to s (the previous τ, ᾱ_{−1} = 1),
  x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z, σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s);
  η = 0 is deterministic, and `ddim_invert` runs it upwards with ε̂ = ε_θ(x_s, t) (the usual
  approximation of ε_θ(x_t, t)).
"""

import jax
import jax.numpy as jnp

from disentax.diffusion import parameterisation
from disentax.diffusion.schedule import Schedule
from disentax.errors import UserError


def denoiser(
    model,
    params,
    schedule: Schedule,
    *,
    prediction: str = "epsilon",
    cond=None,
    guidance: float | None = None,
    null_condition=0,
):
    """`eps_fn(x_t, t) -> ε̂` of `model.apply({"params": params}, x_t, t[, c])`, whose output is
    of kind `prediction`. With `guidance` w (classifier-free; needs `cond`):
    ε̂ = ε̂(x_t, t, ∅) + w (ε̂(x_t, t, c) − ε̂(x_t, t, ∅)), both in one call of twice the batch —
    w = 0 is the unconditional model, w = 1 the conditional one."""
    parameterisation.check_prediction(prediction)
    if guidance is not None and cond is None:
        raise UserError("classifier-free guidance needs a condition (cond=...)")

    def output(x, t, *c):
        out = model.apply({"params": params}, x, t, *c)
        return parameterisation.to_x0_and_epsilon(schedule, prediction, out, x, t)[1]

    def eps_fn(x, t):
        if cond is None:
            return output(x, t)
        if guidance is None:
            return output(x, t, cond)
        null = jnp.broadcast_to(jnp.asarray(null_condition, cond.dtype), cond.shape)
        both = output(
            jnp.concatenate([x, x]), jnp.concatenate([t, t]), jnp.concatenate([cond, null])
        )
        conditional, unconditional = jnp.split(both, 2)
        return unconditional + guidance * (conditional - unconditional)

    return eps_fn


def _steps(x, t) -> jax.Array:
    return jnp.full((x.shape[0],), t, jnp.int32)


def predict_x0(eps_fn, schedule: Schedule, x, t, clip_x0: float | None = None):
    """(x̂_0, ε̂) at step t (a scalar) for the batch x; x̂_0 clipped to [−c, c] if `clip_x0`."""
    eps = eps_fn(x, _steps(x, t))
    ab = schedule.alpha_bars[t]
    x0 = (x - jnp.sqrt(1 - ab) * eps) / jnp.sqrt(ab)
    if clip_x0 is not None:
        x0 = jnp.clip(x0, -clip_x0, clip_x0)
        eps = (x - jnp.sqrt(ab) * x0) / jnp.sqrt(1 - ab)
    return x0, eps


def _reverse_mean(eps_fn, schedule: Schedule, x, t, clip_x0):
    """(μ̃_t, x̂_0) of one ancestral step. Without `clip_x0`, μ̃_t in its ε-form
    (x_t − β_t ε̂/√(1 − ᾱ_t))/√(1 − β_t), equal to μ̃_t(x̂_0, x_t) and finite where ᾱ_t
    underflows in float32 (linear β to 0.2 over T = 1000: ᾱ_t = 0 from t = 902, x̂_0 = ±∞ there);
    with it, μ̃_t(clip(x̂_0), x_t)."""
    x0, eps = predict_x0(eps_fn, schedule, x, t, clip_x0)
    if clip_x0 is None:
        beta = schedule.betas[t]
        mean = (x - beta / jnp.sqrt(1 - schedule.alpha_bars[t]) * eps) / jnp.sqrt(1 - beta)
    else:
        c0, ct = schedule.posterior_mean_coefficients()
        mean = c0[t] * x0 + ct[t] * x
    return mean, x0


def _ancestral(eps_fn, schedule, x_last, noise_at, variance, clip_x0, record: int = 0):
    """x_0 from x_{T−1} by the ancestral steps t = T−1..0 with z_t = `noise_at(t)`, and the x̂_0
    of the last `record` steps `[record, …]` (None when 0)."""
    sigma = jnp.sqrt(schedule.reverse_variance(variance))

    def step(x, t):
        mean, x0 = _reverse_mean(eps_fn, schedule, x, t, clip_x0)
        return mean + sigma[t] * noise_at(t), x0

    num = schedule.num_timesteps
    ts = jnp.arange(num - 1, -1, -1)
    x = jax.lax.scan(lambda x, t: (step(x, t)[0], None), x_last, ts[: num - record])[0]
    if not record:
        return x, None
    return jax.lax.scan(step, x, ts[num - record :])


def _sampling_noise(key, shape):
    """x_{T−1} ~ N(0, I) and z_t from fold_in(key, t), z_0 = 0."""
    start_key, noise_key = jax.random.split(key)

    def noise_at(t):
        z = jax.random.normal(jax.random.fold_in(noise_key, t), shape)
        return jnp.where(t > 0, z, 0.0)

    return jax.random.normal(start_key, shape), noise_at


def ddpm_sample(
    eps_fn, schedule: Schedule, key, shape, *, variance: str = "small", clip_x0=None
) -> jax.Array:
    """`shape` samples by the ancestral sampler: x_{T−1} ~ N(0, I), z_t from fold_in(key, t)."""
    x_last, noise_at = _sampling_noise(key, shape)
    return _ancestral(eps_fn, schedule, x_last, noise_at, variance, clip_x0)[0]


def ddpm_sample_with_x0(
    eps_fn,
    schedule: Schedule,
    key,
    shape,
    *,
    last: int,
    variance: str = "small",
    clip_x0=None,
) -> tuple[jax.Array, jax.Array]:
    """`ddpm_sample` (the same draws from the same key, so the same samples) and the predicted
    clean samples of its last `last` steps: (x_0 `shape`, x̂_0 `[last, *shape]`), where
    x̂_0[i] = (x_t − √(1 − ᾱ_t) ε̂(x_t, t))/√ᾱ_t at t = last − 1 − i (x̂_0[-1] that of the
    final step, t = 0). The trajectory's variance over these steps, Var_t x̂_0(t), is P39's
    hallucination score (Aithal et al. 2024)."""
    num = schedule.num_timesteps
    if not 1 <= last <= num:
        raise UserError(f"last must be in 1..{num}, got {last}")
    x_last, noise_at = _sampling_noise(key, shape)
    return _ancestral(eps_fn, schedule, x_last, noise_at, variance, clip_x0, record=last)


def ddpm_decode(
    eps_fn, schedule: Schedule, x_last, noises, *, variance: str = "small", clip_x0=None
) -> jax.Array:
    """x_0 from the latent (x_{T−1}, z `[T, B, …]`), z_t = `noises[t]` (z_0 included)."""
    return _ancestral(eps_fn, schedule, x_last, lambda t: noises[t], variance, clip_x0)[0]


def dpm_encode(
    eps_fn, schedule: Schedule, x0, key, *, variance: str = "small", clip_x0=None
) -> tuple[jax.Array, jax.Array]:
    """The DPM-Encoder's latent (x_{T−1}, z `[T, B, …]`) of x_0 (module docstring)."""

    def forward(x, t):
        eps = jax.random.normal(jax.random.fold_in(key, t), x.shape)
        x_t = jnp.sqrt(1 - schedule.betas[t]) * x + jnp.sqrt(schedule.betas[t]) * eps
        return x_t, x_t

    ts = jnp.arange(schedule.num_timesteps)
    x_last, chain = jax.lax.scan(forward, x0, ts)  # chain[t] = x_t
    previous = jnp.concatenate([x0[None], chain[:-1]])  # x_{t−1}
    sigma = jnp.sqrt(schedule.reverse_variance(variance))

    def residual(x_t, x_prev, t):
        return (x_prev - _reverse_mean(eps_fn, schedule, x_t, t, clip_x0)[0]) / sigma[t]

    return x_last, jax.vmap(residual)(chain, previous, ts)


def ddim_timesteps(num_timesteps: int, num_steps: int) -> jax.Array:
    """τ_i = ⌊i·T/S⌋, i = 0..S−1, ascending."""
    if not 1 <= num_steps <= num_timesteps:
        raise UserError(f"num_steps must be in 1..{num_timesteps}, got {num_steps}")
    return jnp.asarray([i * num_timesteps // num_steps for i in range(num_steps)], jnp.int32)


def _alpha_bar_or_one(schedule: Schedule, t):
    return jnp.where(t >= 0, schedule.alpha_bars[jnp.maximum(t, 0)], 1.0)


def ddim_sample(
    eps_fn,
    schedule: Schedule,
    x_last,
    num_steps: int,
    *,
    eta: float = 0.0,
    key=None,
    clip_x0=None,
) -> jax.Array:
    """x_0 from x_{T'} (T' = the last τ) by DDIM over `num_steps` steps (module docstring)."""
    if eta and key is None:
        raise UserError("DDIM with eta > 0 draws noise: give it a key")
    taus = ddim_timesteps(schedule.num_timesteps, num_steps)
    pairs = jnp.stack([taus, jnp.concatenate([jnp.asarray([-1]), taus[:-1]])], 1)[::-1]

    def step(x, pair):
        t, s = pair[0], pair[1]
        x0, eps = predict_x0(eps_fn, schedule, x, t, clip_x0)
        ab_t, ab_s = schedule.alpha_bars[t], _alpha_bar_or_one(schedule, s)
        sigma = eta * jnp.sqrt((1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s))
        x = jnp.sqrt(ab_s) * x0 + jnp.sqrt(jnp.maximum(1 - ab_s - sigma**2, 0.0)) * eps
        if eta:
            x = x + sigma * jax.random.normal(jax.random.fold_in(key, t), x.shape)
        return x, None

    return jax.lax.scan(step, x_last, pairs)[0]


def ddim_invert(
    eps_fn, schedule: Schedule, x0, num_steps: int, *, fixed_point_iterations: int = 0
) -> jax.Array:
    """x_{T'} from x_0 by deterministic DDIM run upwards. From s to t (the next τ),
    x_t = √ᾱ_t x̂_0 + √(1 − ᾱ_t) ε̂, x̂_0 = (x_s − √(1 − ᾱ_s) ε̂)/√ᾱ_s: the DDIM step from t to s
    solved for x_t, exact when ε̂ = ε_θ(x_t, t). That x_t is unknown: ε̂ = ε_θ(x_s, t) (the usual
    inversion, error O(1/S) per round trip), then `fixed_point_iterations` rounds of
    ε̂ ← ε_θ(x_t, t) with the x_t just computed (fixed-point inversion; the round trip's error
    shrinks geometrically while the step is a contraction)."""
    taus = ddim_timesteps(schedule.num_timesteps, num_steps)
    pairs = jnp.stack([jnp.concatenate([jnp.asarray([-1]), taus[:-1]]), taus], 1)

    def step(x_s, pair):
        s, t = pair[0], pair[1]
        ab_s, ab_t = _alpha_bar_or_one(schedule, s), schedule.alpha_bars[t]

        def solve(x_t):
            eps = eps_fn(x_t, _steps(x_t, t))
            x0 = (x_s - jnp.sqrt(1 - ab_s) * eps) / jnp.sqrt(ab_s)
            return jnp.sqrt(ab_t) * x0 + jnp.sqrt(1 - ab_t) * eps

        x_t = jax.lax.fori_loop(0, fixed_point_iterations, lambda _, x: solve(x), solve(x_s))
        return x_t, None

    return jax.lax.scan(step, x0, pairs)[0]
