"""FactorVAE score (Kim & Mnih 2018) as disentanglement_lib computes it: a majority vote."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from disentax import data
from disentax.errors import UserError
from disentax.metrics import inputs, progress
from disentax.metrics.sampling import default_images_per_call, uniform_factors


def factor_vae_score(
    dataset,
    representation_fn,
    rng,
    *,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    num_variance_estimate: int = 10000,
    prune_threshold: float = 0.05,
    images_per_call: int | None = None,
):
    """FactorVAE score of `representation_fn(images [B, H, W, C]) -> codes [B, L]` on `dataset`.

    Global variances s²_l = Var(z_l) (ddof = 1) over `num_variance_estimate` i.i.d. samples;
    active dims A = {l : s_l ≥ `prune_threshold`} (0.05 as in disentanglement_lib's study gin).
    A vote draws a factor k uniformly, `batch_size` factor vectors sharing factor k's value, and
    votes (k, argmin_{l∈A} Var_batch(z_l) / s²_l) (local variance ddof = 1); V[k, l] counts the
    votes of `num_train` draws. Factors come from `uniform_factors` (exactly uniform, one
    Threefry word per group of factors; not `dataset.sample_factors`), the vote's index k
    too. The classifier maps dim l to argmax_k V[k, l] and
    train_accuracy = Σ_l V[ĉ(l), l] / Σ V; eval_accuracy applies the same classifier to
    `num_eval` fresh votes. No active dim gives 0, 0, 0. Returns
    {"train_accuracy", "eval_accuracy", "num_active_dims"}; `num_active_dims` = |A| (the
    reference reports the total number of dims there, a bug).

    `rng` is a JAX key. Procedural datasets are sampled, rendered and encoded inside one jit
    (`representation_fn` must be jittable); stored datasets render on the host.
    `images_per_call` bounds the images sampled, rendered and encoded per step of that loop
    (memory; None: `default_images_per_call(dataset)`). A progress bar counts the images
    encoded (`progress.images_bar`).
    """
    inputs.interventional_inputs("factor_vae_score", dataset, representation_fn, rng)
    sizes = {
        "batch_size": (batch_size, 2),
        "num_train": (num_train, 1),
        "num_eval": (num_eval, 1),
        "num_variance_estimate": (num_variance_estimate, 2),
        "images_per_call": (1 if images_per_call is None else images_per_call, 1),
    }
    for name, (value, least) in sizes.items():
        if not isinstance(value, int) or value < least:
            raise UserError(f"{name} must be a Python int >= {least}, got {value!r}")
    if not isinstance(prune_threshold, int | float) or prune_threshold < 0:
        raise UserError(f"prune_threshold must be a float >= 0, got {prune_threshold!r}")
    variance_key, train_key, eval_key = jax.random.split(rng, 3)
    images_per_call = images_per_call or default_images_per_call(dataset)
    sampler = _Sampler(dataset, representation_fn, batch_size, images_per_call)
    total = sampler.variance_images(num_variance_estimate) + sum(
        sampler.vote_images(n) for n in (num_train, num_eval)
    )
    with progress.images_bar("factor_vae_score", total):
        global_var = sampler.variances(variance_key, num_variance_estimate)
        active = jnp.sqrt(global_var) >= prune_threshold
        num_active = int(jnp.sum(active))
        if num_active == 0:
            zero = jnp.float32(0.0)
            return {"train_accuracy": zero, "eval_accuracy": zero, "num_active_dims": jnp.int32(0)}
        train_votes = sampler.votes(train_key, num_train, global_var, active)
        eval_votes = jax.block_until_ready(sampler.votes(eval_key, num_eval, global_var, active))
    train_accuracy, eval_accuracy = majority_vote_accuracy(train_votes, eval_votes)
    return {
        "train_accuracy": train_accuracy,
        "eval_accuracy": eval_accuracy,
        "num_active_dims": jnp.int32(num_active),
    }


@jax.jit
def majority_vote_accuracy(train_votes, eval_votes):
    """(train, eval) accuracy of the classifier ĉ(l) = argmax_k V_train[k, l] (first on ties):
    Σ_l V[ĉ(l), l] / Σ V for V = V_train, V_eval, both `[K, L]`."""
    classifier = jnp.argmax(train_votes, axis=0)

    def accuracy(votes):
        hits = jnp.take_along_axis(votes, classifier[None, :], axis=0)
        return jnp.sum(hits) / jnp.sum(votes)

    return accuracy(train_votes), accuracy(eval_votes)


def vote_factors(dataset, key, num_votes: int, batch_size: int):
    """Factor index k `[V]` and factors `[V·B, K]`: per vote, B i.i.d. factor vectors
    (`uniform_factors`) whose factor k is set to the first vector's value."""
    index_key, factor_key = jax.random.split(key)
    sizes = tuple(dataset.factor_sizes)
    num_factors = len(sizes)
    k = uniform_factors(index_key, (num_factors,), num_votes)[:, 0]
    factors = uniform_factors(factor_key, sizes, num_votes * batch_size)
    factors = factors.reshape(num_votes, batch_size, num_factors)
    chosen = jnp.arange(num_factors)[None, None, :] == k[:, None, None]
    factors = jnp.where(chosen, factors[:, :1, :], factors)
    return k, factors.reshape(num_votes * batch_size, num_factors)


def votes_from_codes(k, codes, global_var, active, num_factors: int, valid):
    """Vote counts `[K, L]` from codes `[V·B, L]` of V votes for factors k `[V]`; `valid [V]`
    masks padding votes."""
    num_votes = k.shape[0]
    codes = codes.reshape(num_votes, -1, codes.shape[-1])
    local_var = jnp.var(codes, axis=1, ddof=1)
    ratio = jnp.where(active, local_var / global_var, jnp.inf)
    dim = jnp.argmin(ratio, axis=1)
    counts = jnp.zeros((num_factors, codes.shape[-1]), jnp.int32)
    return counts.at[k, dim].add(valid.astype(jnp.int32))


def encode_factors(dataset, representation_fn, factors, key):
    """Codes `[N, L]` of the images of `factors [N, K]`, checking the representation's shape;
    advances the open progress bar by N images (`progress.advance`)."""
    progress.advance(factors.shape[0])
    codes = representation_fn(dataset.observations_from_factors(factors, key))
    if codes.ndim != 2 or codes.shape[0] != factors.shape[0]:
        raise UserError(
            f"representation_fn must map images [B, H, W, C] to codes [B, L], got shape "
            f"{tuple(codes.shape)} for B = {factors.shape[0]}"
        )
    return codes


class _Sampler:
    """Draws codes and votes in chunks: one jit for the whole loop (procedural datasets) or one
    host render plus jitted encode per chunk (stored datasets)."""

    def __init__(self, dataset, representation_fn, batch_size, images_per_call):
        self.dataset = dataset
        self.encode = representation_fn
        self.batch_size = batch_size
        self.votes_per_call = max(1, images_per_call // batch_size)
        self.images_per_call = self.votes_per_call * batch_size
        self.procedural = data.is_procedural(dataset)
        self.factor_sizes = tuple(dataset.factor_sizes)
        self.num_factors = len(self.factor_sizes)

    def variance_chunks(self, n):
        """(chunk size, number of chunks) in which `variances` encodes n samples."""
        chunk = min(n, self.images_per_call)
        return chunk, -(-n // chunk)

    def vote_calls(self, n):
        """(votes per call, number of calls) in which `votes` draws n votes."""
        per_call = min(n, self.votes_per_call)
        return per_call, -(-n // per_call)

    def variance_images(self, n):
        """Images `variances` encodes for n samples (whole chunks)."""
        chunk, num_chunks = self.variance_chunks(n)
        return chunk * num_chunks

    def vote_images(self, n):
        """Images `votes` encodes for n votes (whole calls of batches)."""
        per_call, num_calls = self.vote_calls(n)
        return per_call * num_calls * self.batch_size

    def variances(self, key, n):
        """Var(z) (ddof = 1) over n i.i.d. samples, `[L]`."""
        chunk, num_chunks = self.variance_chunks(n)
        keys = jax.vmap(jax.random.fold_in, in_axes=(None, 0))(key, jnp.arange(num_chunks))
        if self.procedural:
            codes = _procedural_codes(self.dataset, self.encode, keys, chunk)
        else:
            encode = jax.jit(self.encode)
            codes = []
            for chunk_key in keys:
                factor_key, nuisance_key = jax.random.split(chunk_key)
                factors = np.asarray(_uniform_factors(factor_key, self.factor_sizes, chunk))
                codes.append(encode_factors(self.dataset, encode, factors, nuisance_key))
            codes = jnp.stack(codes)
        return jnp.var(codes.reshape(num_chunks * chunk, -1)[:n], axis=0, ddof=1)

    def votes(self, key, n, global_var, active):
        """Vote counts `[K, L]` of n votes."""
        per_call, num_calls = self.vote_calls(n)
        if self.procedural:
            return _procedural_votes(
                self.dataset, self.encode, self.batch_size, per_call, key, n, global_var, active
            )
        encode = jax.jit(self.encode)
        total = jnp.zeros((self.num_factors, global_var.shape[0]), jnp.int32)
        for chunk in range(num_calls):
            k, factors, nuisance_key, valid = _chunk_factors(
                self.dataset, self.batch_size, per_call, key, chunk, n
            )
            codes = encode_factors(self.dataset, encode, np.asarray(factors), nuisance_key)
            total = total + _votes_from_codes(k, codes, global_var, active, self.num_factors, valid)
        return total


def chunk_factors(dataset, batch_size, per_call, key, chunk, n):
    """Chunk `chunk` of n votes drawn `per_call` at a time: (k, factors, nuisance key, valid)."""
    factor_key, nuisance_key = jax.random.split(jax.random.fold_in(key, chunk))
    k, factors = vote_factors(dataset, factor_key, per_call, batch_size)
    valid = chunk * per_call + jnp.arange(per_call) < n
    return k, factors, nuisance_key, valid


@functools.partial(jax.jit, static_argnums=(0, 1, 3))
def _procedural_codes(dataset, representation_fn, keys, chunk):
    def step(_, key):
        factor_key, nuisance_key = jax.random.split(key)
        factors = uniform_factors(factor_key, tuple(dataset.factor_sizes), chunk)
        return None, encode_factors(dataset, representation_fn, factors, nuisance_key)

    return jax.lax.scan(step, None, keys)[1]


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _procedural_votes(dataset, representation_fn, batch_size, per_call, key, n, global_var, active):
    num_factors = len(dataset.factor_sizes)

    def step(chunk, total):
        k, factors, nuisance_key, valid = chunk_factors(
            dataset, batch_size, per_call, key, chunk, n
        )
        codes = encode_factors(dataset, representation_fn, factors, nuisance_key)
        return total + votes_from_codes(k, codes, global_var, active, num_factors, valid)

    total = jnp.zeros((num_factors, global_var.shape[0]), jnp.int32)
    return jax.lax.fori_loop(0, (n + per_call - 1) // per_call, step, total)


_chunk_factors = jax.jit(chunk_factors, static_argnums=(0, 1, 2))
_uniform_factors = jax.jit(uniform_factors, static_argnums=(1, 2))
_votes_from_codes = jax.jit(votes_from_codes, static_argnums=4)
