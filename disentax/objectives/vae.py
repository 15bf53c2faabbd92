"""The VAE family of disentanglement_lib (β-VAE, AnnealedVAE, DIP-VAE, β-TCVAE) and the AE."""

import jax
import jax.numpy as jnp
import optax

from disentax.errors import UserError


def bernoulli_reconstruction(logits, x):
    """Σ_pixels BCE(sigmoid(logits), x), summed as in disentanglement_lib: `[B, ...] -> [B]`."""
    return jnp.sum(optax.sigmoid_binary_cross_entropy(logits, x), axis=tuple(range(1, x.ndim)))


def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) = ½ Σ_j (mu² + e^logvar − logvar − 1): `[B, L] -> [B]`."""
    return 0.5 * jnp.sum(mu**2 + jnp.exp(logvar) - logvar - 1.0, axis=-1)


def beta_vae(params, batch, rng, *, model, step, beta: float = 1.0):
    """β-VAE (Higgins et al. 2017): L = E_B[ recon(x) + β · KL(q(z|x) || p(z)) ].

    recon is the Bernoulli negative log-likelihood summed over pixels, KL is summed over latents,
    both averaged over the batch (disentanglement_lib `vae.py`). `step` is unused (no schedule).
    Returns `(loss, metrics)` with `metrics["loss/reconstruction"]`, `["loss/kl"]` and `["elbo"]`.
    """
    del step
    x = batch["image"]
    logits, aux = model.apply({"params": params}, x, train=True, rngs={"latent": rng})
    reconstruction = jnp.mean(bernoulli_reconstruction(logits, x))
    kl = jnp.mean(gaussian_kl(aux["mu"], aux["logvar"]))
    loss = reconstruction + beta * kl
    return loss, {
        "loss": loss,
        "loss/reconstruction": reconstruction,
        "loss/kl": kl,
        "elbo": -(reconstruction + kl),
    }


def _vae_terms(params, x, rng, model):
    """One sampled pass: (batch-mean recon, batch-mean KL, aux with `z`, `mu`, `logvar`)."""
    logits, aux = model.apply({"params": params}, x, train=True, rngs={"latent": rng})
    reconstruction = jnp.mean(bernoulli_reconstruction(logits, x))
    kl = jnp.mean(gaussian_kl(aux["mu"], aux["logvar"]))
    return reconstruction, kl, aux


def capacity_schedule(c_max: float, iteration_threshold: int):
    """AnnealedVAE's capacity `step -> C(step) = min(c_max, c_max · step / iteration_threshold)`.

    Linear from 0 at step 0 to `c_max` at `iteration_threshold`, constant after. Jittable (`step`
    may be a traced integer).
    """

    def capacity(step):
        return jnp.minimum(c_max, c_max * jnp.asarray(step, jnp.float32) / iteration_threshold)

    return capacity


def annealed_vae(
    params,
    batch,
    rng,
    *,
    model,
    step,
    gamma: float = 1000.0,
    c_max: float = 25.0,
    iteration_threshold: int = 100000,
):
    """AnnealedVAE (Burgess et al. 2018): L = E_B[recon(x)] + γ · |E_B[KL(q(z|x) || p(z))] − C|.

    C is `capacity_schedule(c_max, iteration_threshold)(step)`; the absolute value is taken of the
    batch-mean KL, as in disentanglement_lib `vae.py` (`annealed_vae`). Returns `(loss, metrics)`
    with `loss/reconstruction`, `loss/kl`, `loss/capacity` and `elbo`.
    """
    x = batch["image"]
    reconstruction, kl, _ = _vae_terms(params, x, rng, model)
    capacity = capacity_schedule(c_max, iteration_threshold)(step)
    loss = reconstruction + gamma * jnp.abs(kl - capacity)
    return loss, {
        "loss": loss,
        "loss/reconstruction": reconstruction,
        "loss/kl": kl,
        "loss/capacity": capacity,
        "elbo": -(reconstruction + kl),
    }


DIP_TYPES = ("i", "ii")


def covariance_z_mean(mu):
    """Biased batch covariance `E[μ μᵀ] − E[μ] E[μ]ᵀ` (divides by B, as disentanglement_lib):
    `[B, L] -> [L, L]`."""
    mean = jnp.mean(mu, axis=0)
    return jnp.mean(mu[:, :, None] * mu[:, None, :], axis=0) - mean[:, None] * mean[None, :]


def dip_regularizer(cov, lambda_od: float, lambda_d: float):
    """(λ_od · Σ_{i≠j} Cov_ij², λ_d · Σ_i (Cov_ii − 1)²): the two DIP-VAE penalties, `[L, L]`."""
    diagonal = jnp.diagonal(cov)
    off_diagonal = cov - jnp.diag(diagonal)
    return lambda_od * jnp.sum(off_diagonal**2), lambda_d * jnp.sum((diagonal - 1.0) ** 2)


def dip_vae(
    params,
    batch,
    rng,
    *,
    model,
    step,
    lambda_od: float = 1.0,
    lambda_d_factor: float = 10.0,
    dip_type: str = "i",
):
    """DIP-VAE (Kumar et al. 2018, Eqs. 6-7):
    L = E_B[recon(x)] + E_B[KL] + λ_od · Σ_{i≠j} Cov_ij² + λ_d · Σ_i (Cov_ii − 1)²,
    λ_d = lambda_d_factor · λ_od.

    Type "i": Cov = Cov_B(μ); type "ii": Cov = E_B[diag(exp(logvar))] + Cov_B(μ), with the biased
    batch covariance `covariance_z_mean` (disentanglement_lib `vae.py`, `dip_vae`). Returns
    `(loss, metrics)` with `loss/reconstruction`, `loss/kl`, `loss/dip_off_diagonal`,
    `loss/dip_diagonal` (both weighted) and `elbo`. `step` is unused.
    """
    del step
    if dip_type not in DIP_TYPES:
        raise UserError(f"dip_type must be one of {', '.join(DIP_TYPES)}, got {dip_type!r}")
    x = batch["image"]
    reconstruction, kl, aux = _vae_terms(params, x, rng, model)
    cov = covariance_z_mean(aux["mu"])
    if dip_type == "ii":
        cov = cov + jnp.diag(jnp.mean(jnp.exp(aux["logvar"]), axis=0))
    off_diagonal, diagonal = dip_regularizer(cov, lambda_od, lambda_d_factor * lambda_od)
    loss = reconstruction + kl + off_diagonal + diagonal
    return loss, {
        "loss": loss,
        "loss/reconstruction": reconstruction,
        "loss/kl": kl,
        "loss/dip_off_diagonal": off_diagonal,
        "loss/dip_diagonal": diagonal,
        "elbo": -(reconstruction + kl),
    }


TC_ESTIMATORS = ("minibatch", "mws", "mss")


def gaussian_log_density(samples, mean, logvar):
    """log N(samples; mean, exp(logvar)) per element, with the ½ log 2π constant (broadcasts)."""
    return -0.5 * ((samples - mean) ** 2 * jnp.exp(-logvar) + logvar + jnp.log(2.0 * jnp.pi))


def _log_importance_weights(batch_size: int, dataset_size: int, estimator: str):
    """`[B, B]` log r(j, i): the weight of component i in the estimate of q(z_j), or None."""
    if estimator == "minibatch":
        return None
    if estimator == "mws":
        return jnp.full((batch_size, batch_size), -jnp.log(float(batch_size * dataset_size)))
    # MSS (Chen et al. 2018, App. C.2), M = B − 1 other samples: own component 1/N, one stratified
    # component (the next sample, cyclically) (N − M) / (N M), the other M − 1 ones 1/M; rows sum
    # to 1. (The authors' `_log_importance_weight_matrix` writes these with a stride of B, not
    # B + 1, so its 1/N lands in column 0 rather than on the diagonal; this follows the paper.)
    n, m = float(dataset_size), float(batch_size - 1)
    weights = jnp.full((batch_size, batch_size), 1.0 / m)
    rows = jnp.arange(batch_size)
    weights = weights.at[rows, rows].set(1.0 / n)
    weights = weights.at[rows, (rows + 1) % batch_size].set((n - m) / (n * m))
    return jnp.log(weights)


def total_correlation(z, mu, logvar, *, estimator: str = "minibatch", dataset_size=None):
    """Batch estimate of TC = E_j[log q(z_j) − Σ_l log q(z_jl)]: `z [J, L]`, `mu, logvar [B, L]`.

    q(z) ≈ Σ_i r(j, i) q(z | x_i), each log q(z_jl) likewise per dimension, via logsumexp over i.
    `"minibatch"` (disentanglement_lib `total_correlation`): r = 1, i.e. the constants log(B·N)
    are dropped (TC is then shifted by −(L − 1)·log(B·N); gradients are unchanged). `"mws"` /
    `"mss"`: Chen et al. 2018's minibatch-weighted / -stratified sampling, which need the
    `dataset_size` N (and, for "mss", J = B ≥ 2). Returns a scalar.
    """
    if estimator not in TC_ESTIMATORS:
        raise UserError(f"estimator must be one of {', '.join(TC_ESTIMATORS)}, got {estimator!r}")
    if estimator != "minibatch" and (dataset_size is None or dataset_size <= 0):
        raise UserError(f"estimator {estimator!r} needs a dataset_size > 0, got {dataset_size}")
    if estimator == "mss" and (z.shape[0] != mu.shape[0] or mu.shape[0] < 2):
        raise UserError(f"estimator 'mss' needs one z per code and a batch of >= 2, got {z.shape}")
    # log q(z_jl | x_i): [J, B, L].
    log_qz_prob = gaussian_log_density(z[:, None, :], mu[None, :, :], logvar[None, :, :])
    log_w = _log_importance_weights(mu.shape[0], dataset_size, estimator)
    if log_w is None:
        log_w = jnp.zeros(log_qz_prob.shape[:2], log_qz_prob.dtype)
    log_qz = jax.nn.logsumexp(jnp.sum(log_qz_prob, axis=2) + log_w, axis=1)
    log_qz_product = jnp.sum(jax.nn.logsumexp(log_qz_prob + log_w[:, :, None], axis=1), axis=1)
    return jnp.mean(log_qz - log_qz_product)


def beta_tc_vae(
    params,
    batch,
    rng,
    *,
    model,
    step,
    beta: float = 1.0,
    estimator: str = "minibatch",
    dataset_size=None,
):
    """β-TCVAE (Chen et al. 2018, Eq. 5 with α = γ = 1):
    L = E_B[recon(x)] + E_B[KL(q(z|x) || p(z))] + (β − 1) · TC,

    TC = `total_correlation(z, μ, logvar, estimator=..., dataset_size=...)` on the sampled z
    (disentanglement_lib `vae.py`, `beta_tc_vae`, is `estimator="minibatch"`). Returns
    `(loss, metrics)` with `loss/reconstruction`, `loss/kl`, `loss/tc` (unweighted) and `elbo`.
    `step` is unused.
    """
    del step
    x = batch["image"]
    reconstruction, kl, aux = _vae_terms(params, x, rng, model)
    tc = total_correlation(
        aux["z"], aux["mu"], aux["logvar"], estimator=estimator, dataset_size=dataset_size
    )
    loss = reconstruction + kl + (beta - 1.0) * tc
    return loss, {
        "loss": loss,
        "loss/reconstruction": reconstruction,
        "loss/kl": kl,
        "loss/tc": tc,
        "elbo": -(reconstruction + kl),
    }


def ae(params, batch, rng, *, model, step):
    """Plain autoencoder: L = E_B[recon(x | z = μ(x))], no KL, no sampling.

    The Gaussian model is applied with `train=False`, whose code is the deterministic mean μ (the
    logvar head is left untrained), so `rng` and `step` are unused. Returns `(loss, metrics)` with
    `loss/reconstruction`.
    """
    del rng, step
    x = batch["image"]
    logits, _ = model.apply({"params": params}, x, train=False)
    reconstruction = jnp.mean(bernoulli_reconstruction(logits, x))
    return reconstruction, {"loss": reconstruction, "loss/reconstruction": reconstruction}
