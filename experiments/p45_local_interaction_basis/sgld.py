"""P27's effective parameter count: the local learning coefficient λ̂ estimated with SGLD (Lau
et al. 2023, as `devinterp`'s `estimate_learning_coeff`).

Around a trained w*, SGLD samples the tempered, localised posterior
p(w) ∝ exp(−nβ L_n(w) − (γ/2)‖w − w*‖²), β = 1/log n, by

    w ← w − (ε/2)(nβ ∇L_n(w) + γ(w − w*)) + N(0, ε I)

(full-batch gradients here), and λ̂ = nβ (E_w[L_n(w)] − L_n(w*)), the expectation over the
chains' draws after `burn_in` steps. A degenerate w* (flat directions, fewer effective
parameters) gives a smaller λ̂; for a regular model λ = d/2.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree


def llc(
    loss_fn, params, n: int, key: jax.Array, *, steps: int, chains: int, step_size: float,
    localization: float, burn_in: int,
) -> dict[str, float]:  # fmt: skip
    """{"llc": λ̂ over all chains, "chain_sd": the sd of the chains' own λ̂, "init_loss":
    L_n(w*)} for `loss_fn(params) -> L_n` (mean over the n training examples)."""
    w0, unravel = ravel_pytree(params)
    nbeta = n / np.log(n)

    def flat_loss(w):
        return loss_fn(unravel(w))

    grad = jax.value_and_grad(flat_loss)

    def step(w, k):
        value, g = grad(w)
        drift = nbeta * g + localization * (w - w0)
        w = w - 0.5 * step_size * drift + jnp.sqrt(step_size) * jax.random.normal(k, w.shape)
        return w, value

    @jax.jit
    def chain(k):
        return jax.lax.scan(step, w0, jax.random.split(k, steps))[1]

    init = float(flat_loss(w0))
    losses = np.stack([np.asarray(chain(k)) for k in jax.random.split(key, chains)])
    per_chain = nbeta * (losses[:, burn_in:].mean(1) - init)
    return {
        "llc": float(nbeta * (losses[:, burn_in:].mean() - init)),
        "chain_sd": float(per_chain.std()),
        "init_loss": init,
    }
