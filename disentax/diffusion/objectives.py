"""The denoising objective (Ho et al. 2020's L_simple, for any parameterisation), with
classifier-free guidance's condition dropout (Ho & Salimans 2021).

L = E_{t ~ U{0..T−1}, x_0, ε ~ N(0, I)} ‖f_θ(x_t, t[, c]) − target‖² / D,
x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, with target ε, x_0 or v (`parameterisation`) and D the size of
one example. With condition dropout p, each example's condition c is replaced by the null
condition with probability p, so one network learns both f(x_t, t, c) and f(x_t, t, ∅).
"""

import jax
import jax.numpy as jnp

from disentax.diffusion import parameterisation
from disentax.diffusion.schedule import Schedule, per_example


def drop_conditions(key, cond, null_condition, rate: float):
    """c with each example's condition (leading axis) replaced by `null_condition` with
    probability `rate`."""
    drop = jax.random.bernoulli(key, rate, (cond.shape[0],))
    return jnp.where(per_example(drop, cond), jnp.asarray(null_condition, cond.dtype), cond)


def denoising_loss(
    params,
    batch,
    rng,
    *,
    model,
    step,
    schedule: Schedule,
    prediction: str = "epsilon",
    condition_dropout: float = 0.0,
    null_condition=0,
):
    """`batch` {"x" `[B, …]`[, "cond" `[B, …]`]} -> (L, {"loss"}) (module docstring). The model is
    called as `model.apply({"params": params}, x_t, t[, c])`, t `[B]` int32."""
    del step
    parameterisation.check_prediction(prediction)
    x0 = batch["x"]
    t_key, noise_key, drop_key = jax.random.split(rng, 3)
    t = jax.random.randint(t_key, (x0.shape[0],), 0, schedule.num_timesteps)
    eps = jax.random.normal(noise_key, x0.shape, x0.dtype)
    args = (schedule.noise(x0, t, eps), t)
    if "cond" in batch:
        cond = batch["cond"]
        if condition_dropout:
            cond = drop_conditions(drop_key, cond, null_condition, condition_dropout)
        args += (cond,)
    output = model.apply({"params": params}, *args)
    loss = jnp.mean((output - parameterisation.target(schedule, prediction, x0, eps, t)) ** 2)
    return loss, {"loss": loss}
