"""P57's quantum classifiers as one task of the training core
(`config.task = "experiments.p57_quantum_adversarial.task"`), on classical or quantum data.

Digits (`data.kind = "digits"`): the paper's variational classifier on `n` = 10 qubits, `B`
big blocks, each (qubit q, block b, 3n = 30 angles a block)

    encoding  RX(φ_{b,3q+2}) · RZ(φ_{b,3q+1}) · RX(φ_{b,3q})   on every qubit (data angles),
    trainable RX(w_{b,3q+2}) · RZ(w_{b,3q+1}) · RX(w_{b,3q})   on every qubit,
    CNOT(q, q+1) for q = 0..n−2                                (the entangling layer),

("interleaved block encoding": data and weights alternate block by block). The image's pixels
x ∈ [0, 1] (`load_digits` / 16, 64 of them for 8×8), zero-padded to 3nB, become the angles
φ = T·x + π (T = `model.angle_scale` = 2, as in the paper's code). The readout is the
population of qubit `model.readout` (0-based): p(y = 1 | x) = P(|1⟩) = (1 − ⟨Z⟩)/2, the
first digit of the pair is class 0, the second class 1; loss = cross-entropy −log p(y | x).

Quantum data (`data.kind = "ising"`): ground states |ψ(h)⟩ of the open transverse-field Ising
chain H = −J Σ Z_i Z_{i+1} − h Σ X_i (J = 1, exact diagonalisation), class 0 the ferromagnetic
phase (h < 1), class 1 the paramagnetic (h > 1). The classifier is `model.layers` trainable
blocks (RX·RZ·RX on every qubit, CNOT chain) on the input state; its readout as above.

Attacks (`attack`) perturb the input within an L∞ ball of radius ε: the digits' 64 data angles
φ + δ (δ in radians; the padding angles are no data and stay), the quantum data by a local
unitary RX(δ_{3q+2})·RZ(δ_{3q+1})·RX(δ_{3q}) on every qubit before the classifier. FGSM: δ =
ε·sign ∇_δ L(0); BIM: K steps δ ← Π_ε(δ + α·sign ∇_δ L(δ)) from 0, α = 2.5ε/K; PGD: the same
from a uniform random start in the ball.

Adversarial training (`adversarial.epsilon` > 0): the loss is ½ L(clean) + ½ L(BIM(ε)) with
`adversarial.steps` BIM steps against the current weights (held fixed while attacking).

Simulation: each block's per-qubit rotations are multiplied into one 2×2 matrix R(w)·R(φ) and
the blocks run under `lax.scan` on the library's gate kernels (`quantum.apply_gate`,
`apply_cnot`), one block compiled once; `classifier_circuit` is the same circuit gate by gate
for the library's `simulate`, parameter shift and `simulate_density` (the tests' references).

Scores: clean test and training accuracy and test loss; the test accuracy under each attack at
each ε of `attack.epsilons`; digits with `noise.examples` > 0: the clean accuracy of the first
`noise.examples` test images through the density-matrix path with depolarizing noise after
every gate (1q: p = 3/2·(1 − F_1q), 2q: p = 5/4·(1 − F_2q), the average-fidelity conversion)
and readout error, next to the noiseless accuracy on the same images.
"""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import scipy.linalg

from disentax import quantum
from disentax.errors import UserError
from disentax.quantum import density
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.task import RunKeys, Task, get_field, require_positive, validate_core
from experiments.digits import digits_split

KINDS = ("digits", "ising")
ATTACKS = ("fgsm", "bim", "pgd")
PGD_STREAM = 11  # the PGD start keys: fold_in(fold_in(eval key, PGD_STREAM), attack index)
POSITIVE_FIELDS = ("model.num_qubits", "model.angle_scale", "attack.steps")


# --- the circuits


@functools.cache
def classifier_circuit(num_qubits: int, blocks: int) -> quantum.Circuit:
    """The digits classifier (module docstring): `blocks` × (encoding RX·RZ·RX of `Input`s,
    trainable RX·RZ·RX of `Weight`s, CNOT chain); 3·n·blocks inputs and as many weights."""
    c = quantum.Circuit(num_qubits)
    for b in range(blocks):
        for kind in (quantum.Input, quantum.Weight):
            for q in range(num_qubits):
                base = 3 * (b * num_qubits + q)
                c = c.rx(q, kind(base)).rz(q, kind(base + 1)).rx(q, kind(base + 2))
        for q in range(num_qubits - 1):
            c = c.cnot(q, q + 1)
    return c


@functools.cache
def state_circuit(num_qubits: int, layers: int) -> quantum.Circuit:
    """The quantum-data classifier after its input: the local perturbation RX·RZ·RX of `Input`s
    (3n; zero is the identity), then `layers` × (trainable RX·RZ·RX, CNOT chain)."""
    c = quantum.Circuit(num_qubits)
    for q in range(num_qubits):
        c = c.rx(q, quantum.Input(3 * q)).rz(q, quantum.Input(3 * q + 1))
        c = c.rx(q, quantum.Input(3 * q + 2))
    for layer in range(layers):
        for q in range(num_qubits):
            base = 3 * (layer * num_qubits + q)
            c = c.rx(q, quantum.Weight(base)).rz(q, quantum.Weight(base + 1))
            c = c.rx(q, quantum.Weight(base + 2))
        for q in range(num_qubits - 1):
            c = c.cnot(q, q + 1)
    return c


def euler(angles):
    """RX(a₃)·RZ(a₂)·RX(a₁) for angles (a₁, a₂, a₃) `[..., 3]` (RX(a₁) acts first):
    `[..., 2, 2]`."""
    flat = jnp.reshape(angles, (-1, 3))
    rx, rz = jax.vmap(quantum.rx), jax.vmap(quantum.rz)
    out = rx(flat[:, 2]) @ rz(flat[:, 1]) @ rx(flat[:, 0])
    return jnp.reshape(out, angles.shape[:-1] + (2, 2))


def layer(state, rotations):
    """One big block on a state `(2,) * n`: the 2×2 matrix `rotations[q]` on every qubit q, then
    CNOT(q, q+1) for q = 0..n−2 (the library's gate kernels)."""
    for q in range(rotations.shape[0]):
        state = quantum.apply_gate(state, rotations[q], (q,))
    for q in range(rotations.shape[0] - 1):
        state = quantum.apply_cnot(state, q, q + 1)
    return state


def run_blocks(state, rotations):
    """`layer` for each block's matrices `rotations` `[B, n, 2, 2]`, scanned (one block's program
    compiled once, not B copies of it)."""
    return jax.lax.scan(lambda s, r: (layer(s, r), None), state, rotations)[0]


def classifier_state(weights, phi, num_qubits: int):
    """The digits classifier's final state for weights and data angles `[3nB]` each: block b's
    per-qubit matrix R(w_b,q)·R(φ_b,q) (encoding first), scanned over the blocks; equal to
    `quantum.simulate(classifier_circuit(n, B), weights, phi)` (tested)."""
    shape = (-1, num_qubits, 3)
    rotations = euler(jnp.reshape(weights, shape)) @ euler(jnp.reshape(phi, shape))
    state = quantum.zero_state(num_qubits, rotations.dtype)
    return run_blocks(state, rotations)


def ising_classifier_state(weights, delta, state):
    """The quantum-data classifier's final state from an input state `(2,) * n`: the local
    unitaries R(δ_q) on every qubit, then the trainable blocks (`run_blocks`); equal to
    `state_circuit(n, L)` applied to `state` (tested)."""
    n = state.ndim
    local = euler(jnp.reshape(delta, (n, 3)))
    for q in range(n):
        state = quantum.apply_gate(state, local[q], (q,))
    return run_blocks(state, euler(jnp.reshape(weights, (-1, n, 3))))


def blocks_for(pixels: int, num_qubits: int) -> int:
    """⌈pixels / 3n⌉: the big blocks that hold every pixel once."""
    return -(-pixels // (3 * num_qubits))


# --- the transverse-field Ising chain


@functools.cache
def ising_terms(num_spins: int) -> tuple[np.ndarray, np.ndarray]:
    """(Σ_{i<n−1} Z_i Z_{i+1}, Σ_i X_i) of the open chain, `[2^n, 2^n]` float64 each, qubit 0 the
    most significant bit (the simulator's order)."""
    eye, x, z = np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]]), np.diag([1.0, -1.0])

    def on(ops: dict) -> np.ndarray:
        out = np.ones((1, 1))
        for i in range(num_spins):
            out = np.kron(out, ops.get(i, eye))
        return out

    zz = sum(on({i: z, i + 1: z}) for i in range(num_spins - 1))
    return zz, sum(on({i: x}) for i in range(num_spins))


def ising_hamiltonian(num_spins: int, h: float, j: float = 1.0) -> np.ndarray:
    """H = −J Σ_{i<n−1} Z_i Z_{i+1} − h Σ_i X_i (open chain): `[2^n, 2^n]` float64."""
    zz, x = ising_terms(num_spins)
    return -j * zz - h * x


def ground_state(num_spins: int, h: float) -> tuple[float, np.ndarray]:
    """(E_0, |ψ_0⟩ `[2^n]`) of `ising_hamiltonian` by exact diagonalisation (the lowest
    eigenpair only), the state's sign fixed so its largest-magnitude amplitude is positive."""
    energies, vectors = scipy.linalg.eigh(ising_hamiltonian(num_spins, h), subset_by_index=[0, 0])
    psi = vectors[:, 0]
    return float(energies[0]), psi * np.sign(psi[np.argmax(np.abs(psi))])


def ising_split(config) -> dict[str, np.ndarray]:
    """{"x_train", "y_train", "x_test", "y_test", "h_train", "h_test"}: ground states as
    (real, imaginary) `[N, 2, 2^n]`, half from each phase, h drawn uniformly from
    `data.ferro` (label 0) and `data.para` (label 1) by `data.split_seed` (cached: every member
    of a population builds the same)."""
    d = config.data
    return _ising_split(
        config.model.num_qubits,
        d.split_seed,
        d.num_train,
        d.num_test,
        tuple(d.ferro),
        tuple(d.para),
    )


@functools.cache
def _ising_split(n, split_seed, num_train, num_test, ferro, para) -> dict[str, np.ndarray]:
    rng = np.random.RandomState(split_seed)
    out = {}
    for part, size in (("train", num_train), ("test", num_test)):
        h = np.concatenate([rng.uniform(*ferro, size // 2), rng.uniform(*para, size - size // 2)])
        y = (np.arange(size) >= size // 2).astype(np.int32)
        states = np.stack([ground_state(n, float(v))[1] for v in h])
        out[f"x_{part}"] = np.stack([states, np.zeros_like(states)], axis=1).astype(np.float32)
        out[f"y_{part}"], out[f"h_{part}"] = y, h.astype(np.float32)
    return out


def digits_pair_split(config) -> dict[str, np.ndarray]:
    """The shared digits split (`experiments.digits`), only the pair's two digits, relabelled
    0 (the first) and 1 (the second); `data.image_size` 16 repeats each pixel 2×2 (the paper's
    16×16 images, 256 pixels)."""
    first, second = config.data.pair
    xtr, ytr, xte, yte = digits_split(config.data.split_seed, config.data.test_fraction)
    out = {}
    factor = config.data.image_size // 8
    for part, x, y in (("train", xtr, ytr), ("test", xte, yte)):
        keep = (y == first) | (y == second)
        images = np.kron(x[keep].reshape(-1, 8, 8), np.ones((1, factor, factor), np.float32))
        out[f"x_{part}"] = images.reshape(images.shape[0], -1)
        out[f"y_{part}"] = (y[keep] == second).astype(np.int32)
    return out


# --- the model: its weights, and p(y = 1 | input, δ)


class Weights(nn.Module):
    """The circuit's trainable angles `[num_weights]`, uniform in [0, 2π); `__call__` returns
    them (the circuit is a function of them, `prob_one`)."""

    num_weights: int

    @nn.compact
    def __call__(self):
        init = lambda key, shape: jax.random.uniform(key, shape, jnp.float32, 0.0, 2 * jnp.pi)  # noqa: E731
        return self.param("weights", init, (self.num_weights,))


def num_weights(config) -> int:
    m = config.model
    if config.data.kind == "digits":
        return 3 * m.num_qubits * m.blocks
    return 3 * m.num_qubits * m.layers


def perturbation_size(config) -> int:
    """The attack's δ: one angle per pixel (digits) or 3n local-unitary angles (ising)."""
    return config.data.pixels if config.data.kind == "digits" else 3 * config.model.num_qubits


def digits_angles(x, delta, config):
    """φ = T·x + π + δ on the pixels, T·0 + π on the padding: `[3nB]`."""
    m = config.model
    phi = m.angle_scale * x + jnp.pi + delta
    return jnp.pad(phi, (0, 3 * m.num_qubits * m.blocks - x.shape[-1]), constant_values=jnp.pi)


def prob_one_fn(config):
    """(weights `[W]`, x, δ) -> P(readout qubit = 1) = (1 − ⟨Z⟩)/2, for one example."""
    m = config.model

    def readout(state):
        return (1 - quantum.expval_z(state)[m.readout]) / 2

    if config.data.kind == "digits":

        def prob(weights, x, delta):
            return readout(classifier_state(weights, digits_angles(x, delta, config), m.num_qubits))

        return prob

    def prob(weights, x, delta):
        state = jnp.reshape(jax.lax.complex(x[0], x[1]), (2,) * m.num_qubits)
        return readout(ising_classifier_state(weights, delta, state))

    return prob


def noisy_prob_one(weights, phi, num_qubits: int, readout: int, noise: quantum.NoiseModel):
    """P(readout qubit = 1) of the digits classifier on a noisy chip: ρ through every block (per
    qubit the fused rotation R(w)·R(φ), then depolarizing noise; each CNOT, then two-qubit
    depolarizing noise on its wires), the readout error on the measured probabilities.

    The six rotations on a qubit are each followed by Δ_p on the chip; a one-qubit depolarizing
    channel commutes with every unitary on its qubit, so that is exactly the fused rotation
    followed by Δ_p six times, i.e. one Δ with 1 − λ = (1 − λ_p)⁶ (λ = 4p/3): equal to
    `quantum.simulate_density` of `classifier_circuit` with `noise` (tested).
    """
    shape = (-1, num_qubits, 3)
    rotations = euler(jnp.reshape(weights, shape)) @ euler(jnp.reshape(phi, shape))
    lam = 1 - (1 - 4 * noise.depolarizing_1q / 3) ** 6
    p1q = 3 * lam / 4

    def block(rho, rots):
        for q in range(num_qubits):
            rho = density.apply_gate(rho, rots[q], (q,))
            if p1q:
                rho = quantum.depolarize(rho, (q,), p1q)
        for q in range(num_qubits - 1):
            rho = density.apply_gate(rho, quantum.CNOT, (q, q + 1))
            if noise.depolarizing_2q:
                rho = quantum.depolarize(rho, (q, q + 1), noise.depolarizing_2q)
        return rho, None

    rho = density.zero_density(num_qubits, rotations.dtype)
    rho = jax.lax.scan(block, rho, rotations)[0]
    probs = noise.measure(density.probabilities(rho))
    return jnp.sum(jnp.take(probs, 1, axis=readout))


def cross_entropy(p1, y):
    """−log p(y): p(1) = p1, p(0) = 1 − p1, clipped at 1e-7."""
    p = jnp.where(y == 1, p1, 1 - p1)
    return -jnp.log(jnp.clip(p, 1e-7, 1.0))


# --- the attacks


def attack(loss_fn, x, y, epsilon, kind: str, steps: int, key=None):
    """δ `[B, D]` within ‖δ‖_∞ ≤ ε that raises `loss_fn(x, y, δ)` `[B]` (module docstring):
    "fgsm", "bim" (from 0) or "pgd" (from uniform noise of key `key`), K = `steps`."""
    if kind not in ATTACKS:
        raise UserError(f"unknown attack {kind!r}; known: {', '.join(ATTACKS)}")
    start = 1.0 if kind == "pgd" else 0.0
    if kind == "fgsm":
        steps, alpha = 1, epsilon
    else:
        alpha = 2.5 * epsilon / steps
    key = jax.random.PRNGKey(0) if key is None else key
    return sign_ascent(loss_fn, x, y, epsilon, alpha, steps, start, key)


def sign_ascent(loss_fn, x, y, epsilon, alpha, steps, start, key):
    """K = `steps` steps δ ← clip(δ + α·sign ∇_δ Σ L, −ε, ε) from δ₀ = `start`·U(−ε, ε): every
    attack of `attack` (FGSM: one step of α = ε from 0), its numbers traceable, so one compiled
    program serves every attack and radius."""
    grad = jax.grad(lambda d: jnp.sum(loss_fn(x, y, d)))
    size = (x.shape[0], loss_fn.size)
    delta = start * jax.random.uniform(key, size, jnp.float32, -1.0, 1.0) * epsilon

    def body(_, delta):
        return jnp.clip(delta + alpha * jnp.sign(grad(delta)), -epsilon, epsilon)

    return jax.lax.fori_loop(0, steps, body, delta)


class Loss:
    """(x `[B, ...]`, y `[B]`, δ `[B, D]`) -> per-example cross-entropy `[B]` of fixed weights;
    `size` = D."""

    def __init__(self, prob, weights, size):
        self.prob, self.weights, self.size = prob, weights, size

    def probs(self, x, delta):
        return jax.vmap(self.prob, in_axes=(None, 0, 0))(self.weights, x, delta)

    def __call__(self, x, y, delta):
        return cross_entropy(self.probs(x, delta), y)


def classifier_loss(params, batch, rng, *, model, step, config):
    """Cross-entropy of the batch; with `adversarial.epsilon` > 0, ½ clean + ½ on BIM examples
    made against the current (stopped) weights. -> (loss, {"loss", "cross_entropy",
    "accuracy"[, "adversarial_cross_entropy"]})."""
    del rng, model, step
    prob, size = prob_one_fn(config), perturbation_size(config)
    x, y = batch["x"], batch["y"]
    live = Loss(prob, params["weights"], size)
    zero = jnp.zeros((x.shape[0], size), jnp.float32)
    p1 = live.probs(x, zero)
    ce = jnp.mean(cross_entropy(p1, y))
    metrics = {"cross_entropy": ce, "accuracy": jnp.mean((p1 > 0.5) == (y == 1))}
    a = config.adversarial
    loss = ce
    if a.epsilon > 0:
        fixed = Loss(prob, jax.lax.stop_gradient(params["weights"]), size)
        delta = jax.lax.stop_gradient(attack(fixed, x, y, a.epsilon, "bim", a.steps))
        adv = jnp.mean(live(x, y, delta))
        metrics["adversarial_cross_entropy"] = adv
        loss = 0.5 * ce + 0.5 * adv
    return loss, {"loss": loss, **metrics}


def noise_model(config) -> quantum.NoiseModel:
    """Depolarizing p from the average gate fidelities (module docstring) and readout error."""
    n = config.noise
    return quantum.NoiseModel(
        depolarizing_1q=1.5 * (1 - n.fidelity_1q),
        depolarizing_2q=1.25 * (1 - n.fidelity_2q),
        readout_p01=n.readout_p01,
        readout_p10=n.readout_p10,
    )


# --- the task


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifierTask(Task):
    """One classifier (module docstring); `arrays` holds the split as device constants."""

    arrays: dict

    def example_inputs(self) -> tuple:
        return ()

    def batch(self, key: jax.Array, step) -> dict:
        """{"x", "y", "index"}: `batch_size` training examples drawn with replacement by
        `fold_in(key, step)`."""
        n = self.arrays["x_train"].shape[0]
        index = jax.random.randint(jax.random.fold_in(key, step), (self.config.batch_size,), 0, n)
        return {
            "x": self.arrays["x_train"][index],
            "y": self.arrays["y_train"][index],
            "index": index,
        }

    @functools.cached_property
    def _attacked_accuracy(self):
        """(params, x, y, ε, α, K, start, key) -> accuracy on `sign_ascent`'s examples."""
        prob, size = prob_one_fn(self.config), perturbation_size(self.config)

        def accuracy(params, x, y, eps, alpha, steps, start, key):
            loss = Loss(prob, params["weights"], size)
            delta = sign_ascent(loss, x, y, eps, alpha, steps, start, key)
            return jnp.mean((loss.probs(x, delta) > 0.5) == (y == 1)), jnp.mean(loss(x, y, delta))

        return jax.jit(accuracy)

    @functools.cached_property
    def _noisy_scores(self):
        """(params) -> (noisy, noiseless) accuracy on the first `noise.examples` test images,
        `noise.chunk` density matrices at a time."""
        c = self.config
        m, noise = c.model, noise_model(c)
        x = self.arrays["x_test"][: c.noise.examples]
        y = self.arrays["y_test"][: c.noise.examples]
        zero = jnp.zeros((c.data.pixels,), jnp.float32)

        def scores(params):
            w = params["weights"]

            def one(xi):
                phi = digits_angles(xi, zero, c)
                return noisy_prob_one(w, phi, m.num_qubits, m.readout, noise)

            p_noisy = jax.lax.map(one, x, batch_size=c.noise.chunk)
            p_clean = jax.vmap(lambda xi: prob_one_fn(c)(w, xi, zero))(x)
            return {
                "eval/noisy_accuracy": jnp.mean((p_noisy > 0.5) == (y == 1)),
                "eval/noiseless_subset_accuracy": jnp.mean((p_clean > 0.5) == (y == 1)),
            }

        return jax.jit(scores)

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """Clean test and training accuracy and test loss, the test accuracy under every attack
        and ε (PGD's start for the i-th ε from `fold_in(fold_in(key, PGD_STREAM), i)`), the
        noisy-hardware accuracy (digits)."""
        c, a = self.config, self.arrays
        run = self._attacked_accuracy
        zero = (0.0, 0.0, 0, 0.0, key)
        acc, ce = run(params, a["x_test"], a["y_test"], *zero)
        out = {"eval/test_accuracy": acc, "eval/test_cross_entropy": ce}
        out["eval/train_accuracy"] = run(params, a["x_train"], a["y_train"], *zero)[0]
        root = jax.random.fold_in(key, PGD_STREAM)
        k = c.attack.steps
        for i, eps in enumerate(c.attack.epsilons):
            for kind, alpha, steps, start in (("fgsm", eps, 1, 0.0),
                                              ("bim", 2.5 * eps / k, k, 0.0),
                                              ("pgd", 2.5 * eps / k, k, 1.0)):  # fmt: skip
                args = (eps, alpha, steps, start, jax.random.fold_in(root, i))
                out[f"eval/{kind}_accuracy_eps{eps:g}"] = run(
                    params, a["x_test"], a["y_test"], *args
                )[0]
        if c.data.kind == "digits" and c.noise.examples:
            out |= self._noisy_scores(params)
        return {k: float(v) for k, v in out.items()}

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)


def validate(config: ml_collections.ConfigDict) -> None:
    validate_core(config)
    require_positive(config, POSITIVE_FIELDS)
    kind = get_field(config, "data.kind")
    if kind not in KINDS:
        raise UserError(f"config field 'data.kind': unknown {kind!r}; known: {', '.join(KINDS)}")
    m = config.model
    if not 0 <= get_field(config, "model.readout") < m.num_qubits:
        raise UserError(
            f"config field 'model.readout' must be a qubit in [0, {m.num_qubits}), got {m.readout}"
        )
    if kind == "digits":
        need = blocks_for(get_field(config, "data.pixels"), m.num_qubits)
        if get_field(config, "model.blocks") < need:
            raise UserError(
                f"config field 'model.blocks' ({m.blocks}) holds {3 * m.num_qubits * m.blocks} "
                f"angles, fewer than the {config.data.pixels} pixels ({need} blocks needed)"
            )
        pair = tuple(get_field(config, "data.pair"))
        if len(pair) != 2 or pair[0] == pair[1] or not all(0 <= d <= 9 for d in pair):
            raise UserError(f"config field 'data.pair' must be two different digits, got {pair}")
        if get_field(config, "noise.examples") < 0 or get_field(config, "noise.chunk") < 1:
            raise UserError("config fields 'noise.examples' must be >= 0 and 'noise.chunk' >= 1")
    else:
        require_positive(config, ("model.layers", "data.num_train", "data.num_test"))
    eps = tuple(get_field(config, "attack.epsilons"))
    if any(e <= 0 for e in eps):
        raise UserError(f"config field 'attack.epsilons' must be positive, got {eps}")
    if get_field(config, "adversarial.epsilon") < 0 or get_field(config, "adversarial.steps") < 1:
        raise UserError(
            "config fields 'adversarial.epsilon' must be >= 0 and 'adversarial.steps' >= 1, got "
            f"{config.adversarial.epsilon} and {config.adversarial.steps}"
        )


def build(config: ml_collections.ConfigDict) -> ClassifierTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    split = digits_pair_split(config) if config.data.kind == "digits" else ising_split(config)
    arrays = {k: jnp.asarray(split[k]) for k in ("x_train", "y_train", "x_test", "y_test")}
    return ClassifierTask(
        config=config,
        model=Weights(num_weights(config)),
        objective_fn=functools.partial(classifier_loss, config=config),
        tx=make_optimizer(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        arrays=arrays,
    )
