"""What a denoiser predicts, and the conversions between the three common choices.

With x_t = a x_0 + b ε, a = √ᾱ_t, b = √(1 − ᾱ_t) (so a² + b² = 1):
  "epsilon": ε;  "x0": x_0;  "v" (Salimans & Ho 2022): v = a ε − b x_0,
and from x_t and any one of them:
  x_0 = (x_t − b ε)/a = a x_t − b v,  ε = (x_t − a x_0)/b = b x_t + a v.
"""

import jax
import jax.numpy as jnp

from disentax.diffusion.schedule import Schedule, per_example
from disentax.errors import UserError

PREDICTIONS = ("epsilon", "x0", "v")


def check_prediction(prediction: str) -> str:
    if prediction not in PREDICTIONS:
        raise UserError(f"unknown prediction {prediction!r}; known: {', '.join(PREDICTIONS)}")
    return prediction


def _coefficients(schedule: Schedule, t: jax.Array, like: jax.Array):
    ab = per_example(schedule.alpha_bars[t], like)
    return jnp.sqrt(ab), jnp.sqrt(1 - ab)


def target(schedule: Schedule, prediction: str, x0, eps, t):
    """The regression target of `prediction` for x_t = a x_0 + b ε at steps t `[B]`."""
    check_prediction(prediction)
    if prediction == "epsilon":
        return eps
    if prediction == "x0":
        return x0
    a, b = _coefficients(schedule, t, x0)
    return a * eps - b * x0


def to_x0_and_epsilon(schedule: Schedule, prediction: str, output, x_t, t):
    """(x̂_0, ε̂) from a denoiser's `output` of kind `prediction` at (x_t, t `[B]`)."""
    check_prediction(prediction)
    a, b = _coefficients(schedule, t, x_t)
    if prediction == "epsilon":
        return (x_t - b * output) / a, output
    if prediction == "x0":
        return output, (x_t - a * output) / b
    return a * x_t - b * output, b * x_t + a * output
