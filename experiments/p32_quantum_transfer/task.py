"""P32's hybrid quantum–classical transfer learning as one task of the training core
(`config.task = "experiments.p32_quantum_transfer.task"`), in two phases of one run:

1. steps [0, `phases.autoencoder_steps`): a dense autoencoder x `[64]` -> z = ReLU(W x + b)
   `[model.latent]` -> sigmoid(W' z + b') on scikit-learn's `load_digits` (pixels / 16) learns
   to reconstruct (mean squared error); the classifier head does not move;
2. steps [`phases.autoencoder_steps`, `num_steps`): the autoencoder is frozen (transfer: its
   latent is the feature extractor) and an MLP head learns the digit (cross-entropy) from the
   features of `features.kind`:
   - "latent": z itself (the paper's classical baseline);
   - "pca": the first `features.num_qubits` principal components of z over the training set,
     min–max scaled to u ∈ [0, 1] (the circuit's input, without the circuit: a control);
   - "quantum": θ_i = `features.angle_scale`·π·u_i read by the 5-qubit feature map
     (`feature_map`: R_y(θ_i) on every qubit, H on every qubit, CNOT cascade q0→q1→…), whose 2^n
     outcome probabilities (exact, or estimated from `features.shots` shots drawn once per
     example, as a device's counts) are the features.

The PCA and the min–max bounds are fitted on the training set's latent inside the step (16×16
covariance; the encoder is frozen in phase 2, so they are fixed there). The MLP's inputs are
standardised with the training set's per-feature mean and std ("latent", "pca"), or mapped as
2^n·p − 1 (quantum: the uniform distribution at 0; no statistic that hardware could not give).
Gradients do not reach the autoencoder from the head (the features are `stop_gradient`-ed); the
optimizer (`make_tx`) runs one Adam per phase, each frozen outside its phase (`during`).

Scores: the test accuracy (and the training accuracy) of the head on the held-out split, the
autoencoder's test reconstruction MSE and the fraction of the latent's variance in the PCA.
"""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from disentax import quantum
from disentax.errors import UserError
from disentax.models.mlp import MLP
from disentax.train import parallel
from disentax.train.task import RunKeys, Task, get_field, require_positive, validate_core
from experiments.digits import digits_split

KINDS = ("latent", "pca", "quantum")
NUM_CLASSES = 10
SHOT_STREAM = 7  # the per-example shot keys: fold_in(fold_in(data key, SHOT_STREAM), index)
POSITIVE_FIELDS = ("model.latent", "features.num_qubits", "features.angle_scale")


# --- data


# --- the quantum feature map


@functools.cache
def feature_map(num_qubits: int) -> quantum.Circuit:
    """R_y(θ_i) on qubit i (θ = the inputs), then H on every qubit, then CNOT(i, i+1) for
    i = 0..n−2: the paper's encoding circuit, no trainable weights."""
    c = quantum.Circuit(num_qubits)
    for i in range(num_qubits):
        c = c.ry(i, quantum.Input(i))
    for i in range(num_qubits):
        c = c.h(i)
    for i in range(num_qubits - 1):
        c = c.cnot(i, i + 1)
    return c


@functools.cache
def circuit_probabilities(num_qubits: int):
    """θ `[B, n]` -> the outcome probabilities `[B, 2^n]` (qubit 0 the most significant bit)."""
    f = quantum.circuit_function(feature_map(num_qubits), "probabilities")
    return jax.vmap(lambda theta: f(None, theta))


# --- the model


class TransferModel(nn.Module):
    """The autoencoder (encoder, decoder) and the classifier head (an `MLP`), one params tree
    {"encoder", "decoder", "head"}; `__call__(x, features)` runs both parts (for `init`)."""

    latent: int
    widths: tuple
    pixels: int = 64

    def setup(self):
        self.encoder = nn.Dense(self.latent)
        self.decoder = nn.Dense(self.pixels)
        self.head = MLP(self.widths, NUM_CLASSES)

    def encode(self, x):
        return nn.relu(self.encoder(x))

    def reconstruct(self, x):
        return nn.sigmoid(self.decoder(self.encode(x)))

    def classify(self, features):
        return self.head(features)

    def __call__(self, x, features):
        return self.reconstruct(x), self.classify(features)


def feature_dim(config: ml_collections.ConfigDict) -> int:
    f = config.features
    return {"latent": config.model.latent, "pca": f.num_qubits, "quantum": 2**f.num_qubits}[f.kind]


def principal_axes(z: jax.Array, k: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(mean `[d]`, the top-k eigenvectors `[d, k]` of the covariance of z `[N, d]`, each signed
    so its largest-magnitude entry is positive, the fraction of the variance they hold)."""
    mean = jnp.mean(z, axis=0)
    centred = z - mean
    lam, vec = jnp.linalg.eigh(centred.T @ centred / z.shape[0])
    lam, vec = lam[::-1], vec[:, ::-1][:, :k]
    sign = jnp.sign(vec[jnp.argmax(jnp.abs(vec), axis=0), jnp.arange(k)])
    return mean, vec * jnp.where(sign == 0, 1.0, sign), jnp.sum(lam[:k]) / jnp.sum(lam)


def features(model, params, x, keys, x_train, config) -> tuple[jax.Array, dict]:
    """The head's inputs `[B, F]` for images x `[B, 64]` (module docstring), without gradient,
    and {"explained_variance"}; `keys` `[B]` draw each example's shots; `x_train` fits the
    PCA, the min–max bounds and the standardisation."""
    f = config.features
    apply = functools.partial(model.apply, {"params": params}, method="encode")
    z, z_train = apply(x), apply(x_train)
    info = {}
    if f.kind == "latent":
        out = standardise(z, z_train)
    else:
        mean, axes, explained = principal_axes(z_train, f.num_qubits)
        info["explained_variance"] = explained
        p, p_train = (z - mean) @ axes, (z_train - mean) @ axes
        lo, hi = p_train.min(axis=0), p_train.max(axis=0)
        u = (p - lo) / jnp.maximum(hi - lo, 1e-6)
        if f.kind == "pca":
            out = standardise(p, p_train)
        else:
            probs = circuit_probabilities(f.num_qubits)(f.angle_scale * jnp.pi * u)
            if f.shots:
                shape = (2,) * f.num_qubits  # a device's counts / shots, once per example
                probs = jax.vmap(
                    lambda k, q: quantum.estimate_probabilities(k, q.reshape(shape), f.shots)
                )(keys, probs).reshape(probs.shape)
            out = probs * probs.shape[-1] - 1.0
    return jax.lax.stop_gradient(out), info


def example_keys(root: jax.Array, n: int) -> jax.Array:
    """`fold_in(root, i)` for i < n: `[n]` keys."""
    return jax.vmap(lambda i: jax.random.fold_in(root, i))(jnp.arange(n))


def standardise(values, reference):
    return (values - reference.mean(axis=0)) / (reference.std(axis=0) + 1e-6)


# --- the objective


def transfer_loss(params, batch, rng, *, model, step, config, x_train):
    """Reconstruction MSE (trains the autoencoder in phase 1) + cross-entropy of the head on the
    batch's features (trains the head in phase 2; computed from phase 2 on, 0 before: the shot
    draws cost most of a step); which part moves is the optimizer's phase (`make_tx`).
    -> (loss, {"loss", "reconstruction", "cross_entropy", "accuracy"[, "explained_variance"]})."""
    del rng
    x = batch["x"]
    recon = jnp.mean((model.apply({"params": params}, x, method="reconstruct") - x) ** 2)

    def head(params):
        feats, info = features(model, params, x, batch["shot_keys"], x_train, config)
        logits = model.apply({"params": params}, feats, method="classify")
        ce = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"]))
        accuracy = jnp.mean(jnp.argmax(logits, -1) == batch["y"])
        return {"cross_entropy": ce, "accuracy": accuracy, **info}

    def idle(params):
        shapes = jax.eval_shape(head, params)
        return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

    metrics = jax.lax.cond(step >= config.phases.autoencoder_steps, head, idle, params)
    loss = recon + metrics["cross_entropy"]
    return loss, {"loss": loss, "reconstruction": recon, **metrics}


def during(start: int, stop: int, inner: optax.GradientTransformation):
    """`inner` applied at its own update counts [start, stop) only: outside, zero updates and
    its state (moments, its count) left as it was, so each phase's Adam starts fresh."""

    def init(params):
        return (jnp.zeros([], jnp.int32), inner.init(params))

    def update(updates, state, params=None):
        count, inner_state = state
        new_updates, new_state = inner.update(updates, inner_state, params)
        active = (count >= start) & (count < stop)
        new_updates = jax.tree.map(lambda u: jnp.where(active, u, jnp.zeros_like(u)), new_updates)
        new_state = jax.tree.map(lambda n, o: jnp.where(active, n, o), new_state, inner_state)
        return new_updates, (count + 1, new_state)

    return optax.GradientTransformation(init, update)


def make_tx(config: ml_collections.ConfigDict, **values) -> optax.GradientTransformation:
    """Adam on the autoencoder during phase 1 (constant learning rate) and Adam on the head during
    phase 2 (cosine decay to 0 over its steps), both at `optimizer.learning_rate` (`values`
    replace `learning_rate`, `b1`, `b2` or `eps`: a population member's)."""
    other = sorted(set(values) - {"learning_rate", "b1", "b2", "eps"})
    if other:
        raise UserError(f"this task's optimizer takes no {', '.join(other)}")
    o = {k: values.get(k, config.optimizer[k]) for k in ("learning_rate", "b1", "b2", "eps")}
    switch = config.phases.autoencoder_steps
    head_steps = max(config.num_steps - switch, 1)
    ae = optax.adam(o["learning_rate"], o["b1"], o["b2"], o["eps"])
    head = optax.adam(
        optax.cosine_decay_schedule(o["learning_rate"], head_steps), o["b1"], o["b2"], o["eps"]
    )
    labels = {"encoder": "autoencoder", "decoder": "autoencoder", "head": "head"}
    return optax.multi_transform(
        {"autoencoder": during(0, switch, ae), "head": during(switch, config.num_steps, head)},
        lambda params: {name: labels[name] for name in params},
    )


# --- the task


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransferTask(Task):
    """The two-phase run (module docstring); `arrays` holds the split as device constants."""

    arrays: dict

    def optimizer(self, **values) -> optax.GradientTransformation:
        return make_tx(self.config, **values)

    def example_inputs(self) -> tuple:
        return (jnp.zeros((1, 64), jnp.float32), jnp.zeros((1, feature_dim(self.config))))

    def batch(self, key: jax.Array, step) -> dict:
        """{"x" `[B, 64]`, "y" `[B]`, "index" `[B]`, "shot_keys" `[B]`}: `batch_size` training
        examples (`index` in the training set) drawn with replacement by `fold_in(key, step)`;
        an example's shot key depends on the run's data key and the example only (its counts
        are drawn once, as a device's would be)."""
        n = self.arrays["x_train"].shape[0]
        index = jax.random.randint(jax.random.fold_in(key, step), (self.config.batch_size,), 0, n)
        shot_root = jax.random.fold_in(key, SHOT_STREAM)
        return {
            "x": self.arrays["x_train"][index],
            "y": self.arrays["y_train"][index],
            "index": index,
            "shot_keys": jax.vmap(lambda i: jax.random.fold_in(shot_root, i))(index),
        }

    @functools.cached_property
    def _scores(self):
        def accuracy(params, x, y, keys):
            feats, _ = features(self.model, params, x, keys, self.arrays["x_train"], self.config)
            logits = self.model.apply({"params": params}, feats, method="classify")
            return jnp.mean(jnp.argmax(logits, -1) == y)

        def scores(params, key):
            a = self.arrays
            test_keys = example_keys(jax.random.fold_in(key, 0), a["x_test"].shape[0])
            train_keys = example_keys(jax.random.fold_in(key, 1), a["x_train"].shape[0])
            recon = self.model.apply({"params": params}, a["x_test"], method="reconstruct")
            z_train = self.model.apply({"params": params}, a["x_train"], method="encode")
            return {
                "eval/test_accuracy": accuracy(params, a["x_test"], a["y_test"], test_keys),
                "eval/train_accuracy": accuracy(params, a["x_train"], a["y_train"], train_keys),
                "eval/test_reconstruction": jnp.mean((recon - a["x_test"]) ** 2),
                "eval/explained_variance": principal_axes(z_train, self.config.features.num_qubits)[
                    2
                ],
            }

        return jax.jit(scores)

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """Test and training accuracy, test reconstruction MSE, the PCA's share of the latent's
        variance; shot counts of example i drawn from `fold_in(fold_in(key, 0), i)` (test) and
        `fold_in(fold_in(key, 1), i)` (training)."""
        return {k: float(v) for k, v in self._scores(params, key).items()}

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)


def validate(config: ml_collections.ConfigDict) -> None:
    validate_core(config)
    require_positive(config, POSITIVE_FIELDS)
    kind = get_field(config, "features.kind")
    if kind not in KINDS:
        raise UserError(f"config field 'features.kind': unknown {kind!r}; known: {KINDS}")
    if get_field(config, "features.shots") < 0:
        raise UserError(f"config field 'features.shots' must be >= 0, got {config.features.shots}")
    if config.features.shots and kind != "quantum":
        raise UserError("only the quantum features have shots (features.shots > 0)")
    if config.features.num_qubits > get_field(config, "model.latent"):
        raise UserError(
            f"config field 'features.num_qubits' ({config.features.num_qubits}) exceeds the "
            f"latent's {config.model.latent} dimensions"
        )
    switch = get_field(config, "phases.autoencoder_steps")
    if not 0 <= switch <= config.num_steps:
        raise UserError(
            f"config field 'phases.autoencoder_steps' must be in [0, num_steps = "
            f"{config.num_steps}], got {switch}"
        )


def build(config: ml_collections.ConfigDict) -> TransferTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    xtr, ytr, xte, yte = digits_split(config.data.split_seed, config.data.test_fraction)
    arrays = {"x_train": jnp.asarray(xtr), "y_train": jnp.asarray(ytr)}
    arrays |= {"x_test": jnp.asarray(xte), "y_test": jnp.asarray(yte)}
    model = TransferModel(config.model.latent, tuple(config.model.widths))
    return TransferTask(
        config=config,
        model=model,
        objective_fn=functools.partial(transfer_loss, config=config, x_train=arrays["x_train"]),
        tx=make_tx(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        arrays=arrays,
    )
