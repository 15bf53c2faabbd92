"""P45/P27's networks as one task of the training core (`config.task =
"experiments.p45_local_interaction_basis.task"`), picked by `config.problem`:

- "lib": an MLP (`model.widths`, ReLU) classifies scikit-learn's `load_digits` (pixels / 16,
  split once by `data.split_seed`), cross-entropy, batches drawn with replacement. Scores
  (`lib_scores`): for the LIB and PCA bases (`lib.py`) of every node layer, the test
  cross-entropy with one node layer ablated to its first k directions (k = 1..d) and the fewest
  k within `eval.loss_tolerance` nats of the intact network (`k_star`); the interaction graph's
  Gini and top-5 % edge mass per section in the LIB, PCA, PCA cut to LIB's sizes
  (`pca_equal`) and neuron bases; the rank deficits of G and M.
- "llc": a one-hidden-layer MLP (`model.widths` = (h,)) on the same data, full batch, label-
  smoothed cross-entropy (smoothing `objective.smoothing`, so that a minimum exists). Scores
  (`llc_scores`): P27's local learning coefficient λ̂ (`sgld.llc`) of the trained network and,
  with `eval.planted`, of the same function padded to width 2h with planted degeneracy: every
  unit duplicated (outgoing weights halved) or h dead units (zero weights, bias −1).
"""

import dataclasses

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
from experiments.digits import digits_split
from experiments.p45_local_interaction_basis import lib, sgld

PROBLEMS = ("lib", "llc", "modadd", "twotask")
BASES = ("lib", "pca", "pca_equal", "neuron")


def modular_addition(p: int, seed: int, train_fraction: float):
    """All pairs (a, b) ∈ Z_p², x = [onehot(a), onehot(b)] `[p², 2p]`, y = (a + b) mod p, in
    grid order (row a·p + b), and a permutation's first ⌊train_fraction·p²⌋ rows as training
    set: (x, y, train rows, test rows)."""
    a, b = np.divmod(np.arange(p * p), p)
    x = np.concatenate([np.eye(p)[a], np.eye(p)[b]], 1).astype(np.float32)
    order = np.random.RandomState(seed).permutation(p * p)
    n_train = int(train_fraction * p * p)
    return x, ((a + b) % p).astype(np.int32), order[:n_train], order[n_train:]


def frequency_concentration(g: np.ndarray, p: int) -> tuple[float, int]:
    """(c, k) of a feature g `[p²]` on the grid (a, b): the largest share, over frequencies
    k = 1..(p−1)/2, of g's non-constant Fourier power |DFT₂(g)|² on the 2D frequencies
    (k₁, k₂) with k₁, k₂ ∈ {0, k, −k} (functions of cos/sin of ka, kb, k(a ± b)), and that k."""
    power = np.abs(np.fft.fft2(np.asarray(g, np.float64).reshape(p, p))) ** 2
    power[0, 0] = 0.0
    total = power.sum()
    if total <= 0:
        return 0.0, 0
    shares = []
    for k in range(1, (p - 1) // 2 + 1):
        idx = np.array([0, k, p - k])
        shares.append(power[np.ix_(idx, idx)].sum() / total)
    return float(max(shares)), int(np.argmax(shares) + 1)


def key_frequencies(kernel: np.ndarray, p: int, share: float) -> list[int]:
    """The frequencies k = 1..(p−1)/2 whose Fourier power in the embedding (the first kernel's
    rows of a, `[p, h]`, transformed along a) is at least `share` of the largest one's."""
    power = np.abs(np.fft.fft(np.asarray(kernel[:p], np.float64), axis=0)) ** 2
    per_k = np.array([power[k].sum() + power[p - k].sum() for k in range(1, (p - 1) // 2 + 1)])
    return [int(k + 1) for k in np.flatnonzero(per_k >= share * per_k.max())]


def cross_entropy(logits, y, smoothing: float = 0.0):
    """Mean cross-entropy against one-hot labels smoothed by `smoothing`."""
    target = optax.smooth_labels(jax.nn.one_hot(y, logits.shape[-1]), smoothing)
    return jnp.mean(optax.softmax_cross_entropy(logits, target))


def task_loss(logits, y, smoothing: float = 0.0):
    """CE(logits, y) for labels y `[N]`; for two tasks (y `[N, 2]`, 20 logits) the sum of the
    CE of logits[:, :10] against y[:, 0] and of logits[:, 10:] against y[:, 1]."""
    if y.ndim == 1:
        return cross_entropy(logits, y, smoothing)
    return cross_entropy(logits[:, :10], y[:, 0], smoothing) + cross_entropy(
        logits[:, 10:], y[:, 1], smoothing
    )


def task_accuracy(logits, y):
    """Accuracy (two tasks: the mean of both)."""
    if y.ndim == 1:
        return jnp.mean(jnp.argmax(logits, -1) == y)
    a = jnp.argmax(logits[:, :10], -1) == y[:, 0]
    return (jnp.mean(a) + jnp.mean(jnp.argmax(logits[:, 10:], -1) == y[:, 1])) / 2


def classification_loss(params, batch, rng, *, model, step, smoothing=0.0):
    """ℓ(θ) = mean CE(f_θ(x), smoothed one-hot y) (`task_loss`) -> (loss, {"loss",
    "accuracy"})."""
    del rng, step
    logits = model.apply({"params": params}, batch["x"])
    loss = task_loss(logits, batch["y"], smoothing)
    return loss, {"loss": loss, "accuracy": task_accuracy(logits, batch["y"])}


def two_digits(x, y, seed: int):
    """Two independent tasks in one network: x `[N, 128]` = [image i, image π(i)], y `[N, 2]` =
    (y_i, y_π(i)) with π a permutation drawn from `seed`."""
    partner = np.random.RandomState(seed).permutation(len(x))
    return np.concatenate([x, x[partner]], 1), np.stack([y, y[partner]], 1)


def spectral_split(adjacency: np.ndarray) -> np.ndarray:
    """Two clusters of a graph's nodes (bool `[n]`): the sign of the Fiedler vector of the
    normalised Laplacian I − D^{−1/2} A D^{−1/2} (A symmetric, non-negative)."""
    degree = adjacency.sum(1)
    inv = 1 / np.sqrt(np.maximum(degree, 1e-300))
    lap = np.eye(len(adjacency)) - inv[:, None] * adjacency * inv[None, :]
    _, vec = np.linalg.eigh(lap)
    return vec[:, 1] * inv > 0


# --- planted degeneracy (P27)


def duplicated(params: dict) -> dict:
    """A one-hidden-layer MLP of width h -> width 2h computing the same function: every hidden
    unit twice, its outgoing weights halved."""
    d0, d1 = params["Dense_0"], params["Dense_1"]
    return {
        "Dense_0": {"kernel": jnp.tile(d0["kernel"], (1, 2)), "bias": jnp.tile(d0["bias"], 2)},
        "Dense_1": {"kernel": jnp.tile(d1["kernel"], (2, 1)) / 2, "bias": d1["bias"]},
    }


def with_dead_units(params: dict) -> dict:
    """Width h -> 2h, the same function: h more units with zero weights in and out and bias −1
    (never active on any input)."""
    d0, d1 = params["Dense_0"], params["Dense_1"]
    h = d0["bias"].shape[0]
    return {
        "Dense_0": {
            "kernel": jnp.concatenate([d0["kernel"], jnp.zeros_like(d0["kernel"])], 1),
            "bias": jnp.concatenate([d0["bias"], -jnp.ones(h)]),
        },
        "Dense_1": {
            "kernel": jnp.concatenate([d1["kernel"], jnp.zeros_like(d1["kernel"])], 0),
            "bias": d1["bias"],
        },
    }


# --- the task


@dataclasses.dataclass(frozen=True, kw_only=True)
class LIBTask(Task):
    """One of `PROBLEMS` (module docstring); `arrays` holds the digits as device constants."""

    arrays: dict

    def example_inputs(self) -> tuple:
        return (jnp.zeros((1, self.arrays["x_train"].shape[1]), jnp.float32),)

    def batch(self, key: jax.Array, step) -> dict:
        """{"x" `[B, 64]`, "y" `[B]`}: the whole training set when `batch_size` is its size,
        else `batch_size` examples drawn with replacement from `fold_in(key, step)`."""
        x_all, y_all = self.arrays["x_train"], self.arrays["y_train"]
        b = self.config.batch_size
        if b == x_all.shape[0]:
            return {"x": x_all, "y": y_all}
        index = jax.random.randint(jax.random.fold_in(key, step), (b,), 0, x_all.shape[0])
        return {"x": x_all[index], "y": y_all[index]}

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """`lib_scores` or `llc_scores` (module docstring)."""
        if self.config.problem in ("lib", "modadd", "twotask"):
            return lib_scores(params, self.arrays, self.config.eval)
        return llc_scores(params, self.arrays, self.config, key)

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)
        make_optimizer(config)


def ablation_curve(sections, layer, basis, f, y) -> np.ndarray:
    """Test CE with node layer `layer` kept to its first k = 1..size features of `basis`."""
    logits = lib.ablation_outputs(sections, layer, basis, f)
    return np.asarray(jax.vmap(lambda z: task_loss(z, y))(logits), np.float64)


def lib_scores(params, arrays: dict, e: ml_collections.ConfigDict) -> dict[str, float]:
    """LIB vs PCA vs neurons on the digits MLP (module docstring); keys `eval/<name>/l<layer>`."""
    sections = lib.mlp_sections(lib.fold_mlp(params))
    f_train = lib.with_constant(arrays.get("x_basis", arrays["x_train"]))
    f_test = lib.with_constant(arrays["x_test"])
    y = arrays["y_test"]
    train_layers = lib.node_layers(sections, f_train)
    test_layers = lib.node_layers(sections, f_test)
    bases = {
        "lib": lib.lib_bases(sections, f_train),
        "pca": [lib.pca_basis(f) for f in train_layers],
        "neuron": [lib.neuron_basis(f) for f in train_layers],
    }
    # PCA cut to LIB's number of directions in every layer: graphs of equal node counts
    bases["pca_equal"] = [
        lib.Basis(p.C[:, : b.size], p.C_pinv[: b.size], p.gram_eigenvalues, gram_rank=p.gram_rank)
        for p, b in zip(bases["pca"], bases["lib"], strict=True)
    ]
    logits = test_layers[-1]
    full = float(task_loss(logits, y))
    out = {"eval/test_loss": full, "eval/test_accuracy": float(task_accuracy(logits, y))}
    graphs = {}
    for layer in range(len(sections)):
        tag = f"l{layer}"
        b = bases["lib"][layer]
        out[f"eval/width/{tag}"] = train_layers[layer].shape[1]
        out[f"eval/rank_deficit_gram/{tag}"] = train_layers[layer].shape[1] - b.gram_rank
        out[f"eval/rank_deficit_m/{tag}"] = b.gram_rank - b.m_rank
        for name in ("lib", "pca"):
            curve = ablation_curve(sections, layer, bases[name][layer], test_layers[layer], y)
            within = np.flatnonzero(curve - full <= e.loss_tolerance)
            out[f"eval/k_star_{name}/{tag}"] = int(within[0] + 1) if len(within) else -1
            out[f"eval/size_{name}/{tag}"] = len(curve)
            out[f"eval/truncation_cost_{name}/{tag}"] = float(curve[-1] - full)
            for k, value in enumerate(curve, 1):
                out[f"eval/ablated_loss_{name}/{tag}/k{k:02d}"] = float(value)
        rows = np.random.RandomState(0).permutation(len(f_train))[: e.graph_examples]
        for name in BASES:
            edges = lib.interaction_graph(
                sections[layer], bases[name][layer], bases[name][layer + 1],
                train_layers[layer][rows], e.n_alpha,
            )  # fmt: skip
            graphs.setdefault(name, []).append(edges)
            out[f"eval/gini_{name}/{tag}"] = lib.gini(edges)
            out[f"eval/top5_{name}/{tag}"] = lib.top_mass(edges, 0.05)
    if "p" in arrays:
        out |= fourier_scores(params, arrays["p"], bases, train_layers, e)
    if y.ndim == 2:
        for name in ("lib", "neuron"):
            out[f"eval/modularity_{name}"] = modularity_recovery(graphs[name], bases[name])
    return out


def modularity_recovery(edges: list[np.ndarray], bases: list) -> float:
    """Two tasks: the graph of all node layers (edge weights √E, the absolute integrated
    gradients) split in two by `spectral_split`; the share of input and output nodes put on
    their task's side (best of the two labellings). A node's task: the input block (image 1 or
    2) or output block (logits 0–9 or 10–19) holding most of its direction's squared weight;
    hidden nodes are clustered but not scored (their task is not known)."""
    sizes = [b.size for b in bases]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    adjacency = np.zeros((offsets[-1], offsets[-1]))
    for layer, e in enumerate(edges):
        block = np.sqrt(e)
        i, j = (
            slice(offsets[layer], offsets[layer + 1]),
            slice(offsets[layer + 1], offsets[layer + 2]),
        )
        adjacency[i, j], adjacency[j, i] = block, block.T
    alive = adjacency.sum(1) > 1e-12 * adjacency.sum()
    cluster = np.zeros(len(adjacency), bool)
    cluster[alive] = spectral_split(adjacency[np.ix_(alive, alive)])
    c_in, c_out = bases[0].C, bases[-1].C
    truth_in = np.sum(c_in[:64] ** 2, 0) < np.sum(c_in[64:128] ** 2, 0)
    truth_out = np.sum(c_out[:10] ** 2, 0) < np.sum(c_out[10:] ** 2, 0)
    # the input's constant direction (mostly the folded bias) belongs to neither task
    known_in = np.sum(c_in[:128] ** 2, 0) > np.sum(c_in[128:] ** 2, 0)
    truth = np.concatenate([truth_in[known_in], truth_out])
    found = np.concatenate([cluster[: sizes[0]][known_in], cluster[offsets[-2] :]])
    keep = np.concatenate([alive[: sizes[0]][known_in], alive[offsets[-2] :]])
    match = np.mean(truth[keep] == found[keep])
    return float(max(match, 1 - match))


def fourier_scores(params, p: int, bases: dict, layers: list, e) -> dict[str, float]:
    """Modular addition: the key frequencies (`key_frequencies` of the embedding) and, per
    basis and hidden or input node layer, over its first `eval.fourier_directions` directions,
    the mean `frequency_concentration` and the share of directions whose frequency is key.
    `layers` are the node layers on all p² pairs in grid order."""
    keys = key_frequencies(np.asarray(params["Dense_0"]["kernel"]), p, e.key_share)
    out = {"eval/num_key_frequencies": len(keys)}
    out |= {f"eval/key_frequency/{i}": k for i, k in enumerate(keys)}
    for layer in range(len(layers) - 1):
        f = np.asarray(layers[layer], np.float64)
        for name in ("lib", "pca", "neuron"):
            basis = bases[name][layer]
            if name == "neuron":  # the most active neurons first
                order = np.argsort(-np.mean((f @ basis.C) ** 2, 0), kind="stable")
                c = basis.C[:, order]
            else:
                c = basis.C
            found = [frequency_concentration(g, p) for g in (f @ c[:, : e.fourier_directions]).T]
            out[f"eval/fourier_conc_{name}/l{layer}"] = float(np.mean([c for c, _ in found]))
            out[f"eval/fourier_key_{name}/l{layer}"] = float(np.mean([k in keys for _, k in found]))
    return out


def llc_scores(params, arrays: dict, config, key) -> dict[str, float]:
    """λ̂ (`sgld.llc`) of the trained network and, with `eval.planted`, of its duplicated and
    dead-unit paddings; their train losses (the same function: equal up to rounding)."""
    e = config.eval
    smoothing = config.objective.smoothing
    x, y = arrays["x_train"], arrays["y_train"]

    def loss(p):
        width = p["Dense_0"]["bias"].shape[0]
        return cross_entropy(MLP((width,), 10).apply({"params": p}, x), y, smoothing)

    nets = {"trained": params}
    if e.planted:
        nets |= {"duplicated": duplicated(params), "dead": with_dead_units(params)}
    out = {}
    for name, p in nets.items():
        out[f"eval/train_loss/{name}"] = float(loss(p))
        estimate = sgld.llc(
            loss, p, len(x), jax.random.fold_in(key, 0), steps=e.sgld_steps,
            chains=e.sgld_chains, step_size=e.sgld_step_size, localization=e.sgld_gamma,
            burn_in=e.sgld_burn_in,
        )  # fmt: skip
        out[f"eval/llc/{name}"] = estimate["llc"]
        out[f"eval/llc_chain_sd/{name}"] = estimate["chain_sd"]
    return out


def validate(config: ml_collections.ConfigDict) -> None:
    validate_core(config)
    problem = get_field(config, "problem")
    if problem not in PROBLEMS:
        raise UserError(f"config field 'problem': unknown {problem!r}; known: {PROBLEMS}")
    if problem == "llc" and len(get_field(config, "model.widths")) != 1:
        raise UserError("the llc problem's MLP has one hidden layer (model.widths=(h,))")
    if get_field(config, "objective.smoothing") < 0:
        raise UserError("config field 'objective.smoothing' must be >= 0")


def build(config: ml_collections.ConfigDict) -> LIBTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    extra = {}
    if config.problem == "twotask":
        xtr, ytr, xte, yte = digits_split(config.data.split_seed, config.data.test_fraction)
        xtr, ytr = two_digits(xtr, ytr, config.data.pair_seed)
        xte, yte = two_digits(xte, yte, config.data.pair_seed + 1)
    elif config.problem == "modadd":
        d = config.data
        x, y, train, test = modular_addition(d.p, d.split_seed, d.train_fraction)
        xtr, ytr, xte, yte = x[train], y[train], x[test], y[test]
        extra = {"x_basis": jnp.asarray(x), "p": d.p}
    else:
        xtr, ytr, xte, yte = digits_split(config.data.split_seed, config.data.test_fraction)
    if config.batch_size > len(xtr):
        raise UserError(
            f"config field 'batch_size' ({config.batch_size}) exceeds the training set ({len(xtr)})"
        )
    arrays = {"x_train": jnp.asarray(xtr), "y_train": jnp.asarray(ytr)}
    arrays |= {"x_test": jnp.asarray(xte), "y_test": jnp.asarray(yte)} | extra
    outputs = {"modadd": config.data.get("p"), "twotask": 20}.get(config.problem, 10)
    return LIBTask(
        config=config,
        model=MLP(tuple(config.model.widths), outputs),
        objective_fn=classification_loss,
        tx=make_optimizer(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        arrays=arrays,
    )
