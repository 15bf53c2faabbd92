"""P55's three problems as one task of the training core (`config.task =
"experiments.p55_maestro.task"`), picked by `config.problem`:

- "regression": y = A x, x ~ N(0, I_d) (isotropic), A `[n, d]` fixed by `data.map_seed` with
  singular values σ_i = σ_1·ρ^i (`data.top_singular_value`, `data.decay`), one `MaestroDense`
  without bias. Since E‖(W − A)x‖² = ‖W − A‖²_F, the scores are exact: per rank k the excess of
  ‖W_k − A‖²_F over the Eckart–Young bound Σ_{i>k} σ_i², as a fraction of ‖A‖²_F, and the sine
  of the largest principal angle between span(U_{:k}) and the top-k left singular vectors of A
  (span(V_{:k}) and the right ones).
- "autoencoder": scikit-learn's `load_digits` (pixels / 16, the always-zero pixels dropped,
  centred), x ≈ x V Uᵀ with one `MaestroDense(d, rank=model.rank)` without bias; per rank k the
  reconstruction MSE's excess over PCA's Σ_{i>k} λ_i (as a fraction of Σ λ) and the principal
  angles of span(U_{:k}), span(V_{:k}) to the top-k principal components.
- "classifier": `load_digits` (pixels / 16) split once (`data.split_seed`) into train and test;
  an MLP of `MaestroDense` layers (`model.factorized`) or of plain `nn.Dense` layers (the
  baseline). Scores: test accuracy with every layer cut to rank ⌈p·r_l⌉ for each fraction p of
  `eval.fractions` (the official code's width multiplier `p`) and to min(k, r_l) for each k of
  `eval.ranks`; the dense baseline is cut by the SVD of each kernel (Eckart–Young per layer).

The objective (`maestro_loss`): the task loss of the submodel at ordered-dropout ranks b
(`layers.sample_ranks` from the step's `rng` within each layer's kept rank), plus, with
`objective.full_pass`, the full model's loss, plus `objective.group_lasso` (λ_gp) times the
hierarchical group lasso. The dense baseline's objective is the plain task loss. The optimizer
is Adam on a cosine-decaying learning rate followed by `layers.progressive_shrinking` (every
`shrink.every_steps` steps at importance `shrink.threshold`; `every_steps` 0: never).
"""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from disentax.errors import UserError
from disentax.models.mlp import MLP
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.task import RunKeys, Task, get_field, validate_core
from experiments.digits import digits, digits_split
from experiments.p55_maestro import layers

PROBLEMS = ("regression", "autoencoder", "classifier")


# --- data


def linear_map(n: int, d: int, seed: int, top: float, decay: float):
    """(A `[n, d]`, P `[n, r]`, σ `[r]`, Q `[d, r]`): A = P diag(σ) Qᵀ with P, Q orthonormal
    columns drawn from `PRNGKey(seed)` (QR of Gaussians) and σ_i = top·decay^i, r = min(n, d)."""
    r = min(n, d)
    kp, kq = jax.random.split(jax.random.PRNGKey(seed))
    p = jnp.linalg.qr(jax.random.normal(kp, (n, r)))[0]
    q = jnp.linalg.qr(jax.random.normal(kq, (d, r)))[0]
    sigma = top * decay ** jnp.arange(r, dtype=jnp.float32)
    return (p * sigma) @ q.T, p, sigma, q


def digits_pca() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X centred `[N, d]` without the always-zero pixels, eigenvalues λ `[d]` descending, their
    eigenvectors `[d, d]`) of the digits' covariance XᵀX/N (float64 eigendecomposition)."""
    x, _ = digits()
    x = x[:, x.std(axis=0) > 0]
    x = x - x.mean(axis=0)
    lam, vec = np.linalg.eigh(x.astype(np.float64).T @ x / len(x))
    return x, lam[::-1].astype(np.float32), vec[:, ::-1].astype(np.float32)


# --- subspaces


def sin_largest_angle(a: jax.Array, b: jax.Array) -> jax.Array:
    """sin θ_max between span(a) and span(b), a, b `[m, k]` of full column rank: √(1 − s_min²)
    with s the singular values of Q_aᵀ Q_b (the cosines of the principal angles)."""
    qa, qb = jnp.linalg.qr(a)[0], jnp.linalg.qr(b)[0]
    s = jnp.linalg.svd(qa.T @ qb, compute_uv=False)
    return jnp.sqrt(jnp.clip(1.0 - jnp.min(s) ** 2, 0.0, 1.0))


def rank_key(k: int) -> str:
    return f"k{k:03d}"


def fraction_key(p: float) -> str:
    return f"p{p:.4f}"


# --- the objective


def task_loss(problem: str, prediction: jax.Array, batch: dict) -> jax.Array:
    """Squared error summed over outputs, mean over the batch (regression, autoencoder), or the
    mean cross-entropy (classifier)."""
    if problem == "classifier":
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(prediction, batch["y"]))
    return jnp.mean(jnp.sum((prediction - batch["y"]) ** 2, axis=-1))


def maestro_loss(
    params, batch, rng, *, model, step, problem, sampler, full_pass=False, group_lasso=0.0
):
    """L(θ) = ℓ(f_θ^b(x), y) [+ ℓ(f_θ(x), y) with `full_pass`] + λ_gp·Σ_layers GL(U, V), with
    b = `layers.sample_ranks(rng, kept ranks, sampler)` (ordered dropout). With `full_pass` and a
    classifier the submodel fits the full model's detached softmax, as the official training
    script does. -> (loss, {"loss", "task_loss", "group_lasso", "full_loss", "kept_rank/<l>"})."""
    del step
    kept = layers.kept_ranks(params)
    ranks = layers.sample_ranks(rng, kept, sampler)
    ranks_in = ranks if isinstance(model, layers.MaestroMLP) else ranks[0]
    sub = model.apply({"params": params}, batch["x"], ranks_in)
    metrics = {}
    if full_pass:
        full = model.apply({"params": params}, batch["x"])
        full_loss = task_loss(problem, full, batch)
        if problem == "classifier":
            target = jax.lax.stop_gradient(jax.nn.softmax(full))
            sub_loss = jnp.mean(optax.softmax_cross_entropy(sub, target))
        else:
            sub_loss = task_loss(problem, sub, batch)
        metrics["full_loss"] = full_loss
    else:
        full_loss = 0.0
        sub_loss = task_loss(problem, sub, batch)
    penalty = layers.total_group_lasso(params)
    loss = sub_loss + full_loss + group_lasso * penalty
    metrics.update({"loss": loss, "task_loss": sub_loss, "group_lasso": penalty})
    metrics.update({f"kept_rank/{i}": r for i, r in enumerate(kept)})
    return loss, metrics


def dense_loss(params, batch, rng, *, model, step, problem, **maestro_hparams):
    """The baseline's plain task loss -> (loss, {"loss"}); Maestro's hyperparameters (the
    shared `config.objective`) are ignored."""
    del rng, step, maestro_hparams
    loss = task_loss(problem, model.apply({"params": params}, batch["x"]), batch)
    return loss, {"loss": loss}


def make_tx(config: ml_collections.ConfigDict, **values) -> optax.GradientTransformation:
    """Adam(cosine decay from `optimizer.learning_rate` to 0 over `num_steps`), then progressive
    shrinking when `shrink.every_steps` > 0 (a factorised model only). `values` replace
    `learning_rate`, `b1`, `b2` or `eps` (a population member's)."""
    other = sorted(set(values) - {"learning_rate", "b1", "b2", "eps"})
    if other:
        raise UserError(f"this task's optimizer takes no {', '.join(other)}")
    o = {k: values.get(k, config.optimizer[k]) for k in ("learning_rate", "b1", "b2", "eps")}
    schedule = optax.cosine_decay_schedule(o["learning_rate"], max(config.num_steps, 1))
    adam = optax.adam(schedule, o["b1"], o["b2"], o["eps"])
    if config.problem == "classifier" and not config.model.factorized:
        return adam
    if config.shrink.every_steps > 0:
        return optax.chain(
            adam, layers.progressive_shrinking(config.shrink.every_steps, config.shrink.threshold)
        )
    return adam


# --- the task


@dataclasses.dataclass(frozen=True, kw_only=True)
class MaestroTask(Task):
    """One of `PROBLEMS` (module docstring); `arrays` holds its data as device constants."""

    arrays: dict

    @property
    def problem(self) -> str:
        return self.config.problem

    def optimizer(self, **values) -> optax.GradientTransformation:
        return make_tx(self.config, **values)

    def example_inputs(self) -> tuple:
        return (jnp.zeros((1, self.arrays["dim"]), jnp.float32),)

    def batch(self, key: jax.Array, step) -> dict:
        """{"x" `[B, d]`, "y"} of `step`: fresh Gaussian inputs (regression), or `batch_size`
        examples drawn with replacement from the training set (all of it, in order, when
        `batch_size` equals its size)."""
        b = self.config.batch_size
        key = jax.random.fold_in(key, step)
        if self.problem == "regression":
            x = jax.random.normal(key, (b, self.arrays["dim"]))
            return {"x": x, "y": x @ self.arrays["A"].T}
        x_all, y_all = self.arrays["x_train"], self.arrays["y_train"]
        if b == x_all.shape[0]:
            return {"x": x_all, "y": y_all}
        index = jax.random.randint(key, (b,), 0, x_all.shape[0])
        return {"x": x_all[index], "y": y_all[index]}

    @functools.cached_property
    def _scores(self):
        return jax.jit(getattr(self, f"_{self.problem}_scores"))

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """`eval/<name>/<k or p>` per rank (module docstring); deterministic (`key` unused)."""
        del key
        return {k: float(v) for k, v in self._scores(params).items()}

    def _linear_scores(self, params, left, right, bound):
        """Per rank k of the one layer: `excess` (‖W_k − A‖²_F, or the reconstruction MSE at
        rank k, minus `bound[k]`, over `bound[0]`), sin θ_max of span(U_{:k}) vs `left[:, :k]`
        and of span(V_{:k}) vs `right[:, :k]`, and the plain importance ‖u_k‖‖v_k‖."""
        layer = params  # the model is the one layer
        u, v = layer["u"], layer["v"]
        plain = layers.importance(u, v, hierarchical=False)
        out = {}
        for k in range(1, u.shape[1] + 1):
            name = rank_key(k)
            error = self._error(layers.dense_kernel(layer, k))
            out[f"eval/excess/{name}"] = (error - bound[k]) / bound[0]
            out[f"eval/sin_u/{name}"] = sin_largest_angle(u[:, :k], left[:, :k])
            out[f"eval/sin_v/{name}"] = sin_largest_angle(v[:, :k], right[:, :k])
            out[f"eval/importance/{name}"] = plain[k - 1]
        return out

    def _error(self, kernel: jax.Array) -> jax.Array:
        """‖Kᵀ − A‖²_F (regression: the expected squared error under x ~ N(0, I)) or the mean
        squared reconstruction error of the training set x ≈ x K (autoencoder)."""
        if self.problem == "regression":
            return jnp.sum((kernel.T - self.arrays["A"]) ** 2)
        x = self.arrays["x_train"]
        return jnp.mean(jnp.sum((x @ kernel - x) ** 2, axis=-1))

    def _regression_scores(self, params):
        """Eckart–Young: min over rank-k W of ‖W − A‖²_F is Σ_{i>k} σ_i²."""
        tail = jnp.cumsum((self.arrays["sigma"] ** 2)[::-1])[::-1]
        bound = jnp.concatenate([tail, jnp.zeros(1)])
        return self._linear_scores(params, self.arrays["P"], self.arrays["Q"], bound)

    def _autoencoder_scores(self, params):
        """PCA: min over rank-k maps of the reconstruction MSE is Σ_{i>k} λ_i."""
        tail = jnp.cumsum(self.arrays["lambda"][::-1])[::-1]
        bound = jnp.concatenate([tail, jnp.zeros(1)])
        return self._linear_scores(params, self.arrays["pcs"], self.arrays["pcs"], bound)

    def factorised(self, params):
        """The classifier's params as `MaestroMLP` params: itself, or each dense kernel's SVD
        factors (`layers.svd_factors`) with its bias, for the baseline."""
        if self.config.model.factorized:
            return params
        return {
            f"MaestroDense_{i}": {**layers.svd_factors(p["kernel"]), "bias": p["bias"]}
            for i, p in ((int(name.rpartition("_")[2]), p) for name, p in params.items())
        }

    def _classifier_scores(self, params):
        c = self.config
        p = self.factorised(params)
        net = layers.MaestroMLP(tuple(c.model.widths), 10)
        full = layers.ranks_of(p)
        x, y = self.arrays["x_test"], self.arrays["y_test"]

        def accuracy(ranks):
            return jnp.mean(jnp.argmax(net.apply({"params": p}, x, ranks), -1) == y)

        out = {"eval/accuracy": accuracy(full)}
        for frac in c.eval.fractions:
            ranks = jnp.ceil(frac * full).astype(jnp.int32)
            out[f"eval/acc_fraction/{fraction_key(frac)}"] = accuracy(ranks)
        for k in c.eval.ranks:
            out[f"eval/acc_rank/{rank_key(k)}"] = accuracy(jnp.minimum(k, full))
        for i, r in enumerate(layers.kept_ranks(p)):
            out[f"eval/kept_rank/{i}"] = r
        return out

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)
        make_optimizer(config)


def validate(config: ml_collections.ConfigDict) -> None:
    validate_core(config)
    problem = get_field(config, "problem")
    if problem not in PROBLEMS:
        raise UserError(f"config field 'problem': unknown {problem!r}; known: {PROBLEMS}")
    if get_field(config, "objective.sampler") not in layers.SAMPLERS:
        raise UserError(
            f"config field 'objective.sampler' must be one of {layers.SAMPLERS}, got "
            f"{config.objective.sampler!r}"
        )
    if get_field(config, "objective.group_lasso") < 0:
        raise UserError("config field 'objective.group_lasso' must be >= 0")
    if get_field(config, "shrink.every_steps") < 0 or get_field(config, "shrink.threshold") < 0:
        raise UserError("config fields 'shrink.every_steps' and 'shrink.threshold' must be >= 0")
    if problem != "classifier" and not get_field(config, "model.factorized"):
        raise UserError("only the classifier has a dense baseline (model.factorized=False)")


def build(config: ml_collections.ConfigDict) -> MaestroTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    d, m = config.data, config.model
    hparams = {"problem": config.problem}
    if config.problem == "regression":
        a, p, sigma, q = linear_map(d.outputs, d.inputs, d.map_seed, d.top_singular_value, d.decay)
        arrays = {"dim": d.inputs, "A": a, "P": p, "Q": q, "sigma": sigma}
        model: nn.Module = layers.MaestroDense(d.outputs, use_bias=False)
    elif config.problem == "autoencoder":
        x, lam, vec = digits_pca()
        arrays = {"dim": x.shape[1], "x_train": jnp.asarray(x), "y_train": jnp.asarray(x)}
        arrays |= {"lambda": jnp.asarray(lam), "pcs": jnp.asarray(vec)}
        model = layers.MaestroDense(x.shape[1], rank=m.rank or None, use_bias=False)
    else:
        xtr, ytr, xte, yte = digits_split(d.split_seed, d.test_fraction)
        arrays = {"dim": xtr.shape[1], "x_train": jnp.asarray(xtr), "y_train": jnp.asarray(ytr)}
        arrays |= {"x_test": jnp.asarray(xte), "y_test": jnp.asarray(yte)}
        net = layers.MaestroMLP if m.factorized else MLP
        model = net(tuple(m.widths), 10)
    if "x_train" in arrays and config.batch_size > arrays["x_train"].shape[0]:
        raise UserError(
            f"config field 'batch_size' ({config.batch_size}) exceeds the training set "
            f"({arrays['x_train'].shape[0]})"
        )
    objective = functools.partial(maestro_loss if m.factorized else dense_loss, **hparams)
    return MaestroTask(
        config=config,
        model=model,
        objective_fn=objective,
        tx=make_tx(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        arrays=arrays,
    )
