"""P34's runs as one task of the training core (`config.task = "experiments.p34_tanglenas.task"`),
picked by `config.method`, all on the same `layers.SuperNet` (one weight tensor per layer at
the largest choice) and the same split of scikit-learn's `load_digits`:

- "fixed": one architecture (`objective.arch`, an index of `layers.architectures()`) trained
  alone: the supernet with that one-hot α, which is exactly the sub-network (`layers`). A
  population over `objective.arch` × seeds is the ground-truth table.
- "spos": stage one of the two-stage baseline, single-path one-shot (Guo et al.): each step
  trains the sub-network of one architecture drawn uniformly from the step's rng.
- "darts": weight-superposition DARTS, first order (the official `darts_v1`): players "model"
  (the supernet weights, on training batches) and "arch" (logits `{"channels", "kernels"}`
  `[L, 3]`, α = softmax per layer and dimension, on validation batches); one step is an arch
  update on batch 0 then a weight update on batch 1 of a stacked `[2, B]` batch
  (`MultiPlayer`).
- "drnas": as "darts", α drawn each step from Dirichlet(elu(β) + 1) with reparameterised
  gradients (the official `DRNASSampler`).

Scores (`member_scores`): "fixed" gives its architecture's validation and test accuracy; the
search methods give the supernet's validation accuracy of every architecture with inherited
weights (one-hot α, `eval/supernet_val/aNN`; stage two's random search reads these) and, for
"darts"/"drnas", the argmax architecture (`eval/chosen`).
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from disentax.errors import UserError
from disentax.objectives import MultiPlayer
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.state import TrainState
from disentax.train.task import RunKeys, Task, get_field, validate_core
from experiments import digits
from experiments.p34_tanglenas import layers

METHODS = ("fixed", "spos", "darts", "drnas")
SEARCH = ("darts", "drnas")


@functools.cache
def digits_split(seed: int, num_val: int, num_test: int):
    """(x_train, y_train, x_val, y_val, x_test, y_test): `experiments.digits.split` as images
    `[N, 8, 8, 1]`."""
    s = digits.split(seed, num_test=num_test, num_val=num_val)
    images = {k: v.reshape(-1, 8, 8, 1) if k[0] == "x" else v for k, v in s.items()}
    return tuple(images[f"{v}_{part}"] for part in ("train", "val", "test") for v in "xy")


def cross_entropy(logits, y):
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))


def accuracy(logits, y):
    return jnp.mean(jnp.argmax(logits, -1) == y)


# --- objectives: `(params, batch, rng, *, model, step, **hparams) -> (loss(es), metrics)`


def fixed_loss(params, batch, rng, *, model, step, arch):
    """Cross-entropy of architecture `arch` (one-hot α: the sub-network alone)."""
    del rng, step
    alpha_c, alpha_k = layers.one_hot_alphas(arch, model.num_layers)
    logits = model.apply({"params": params}, batch["x"], alpha_c, alpha_k)
    loss = cross_entropy(logits, batch["y"])
    return loss, {"loss": loss, "accuracy": accuracy(logits, batch["y"])}


def spos_loss(params, batch, rng, *, model, step):
    """Cross-entropy of one architecture drawn uniformly per step (single path)."""
    del step
    n = len(layers.architectures(model.num_layers))
    return fixed_loss(
        params, batch, None, model=model, step=0, arch=jax.random.randint(rng, (), 0, n)
    )


def alphas(arch_params, rng, method: str):
    """(α^chan, α^kern) `[L, 3]`: softmax of the logits ("darts") or a reparameterised
    Dirichlet(elu(β) + 1) draw per layer ("drnas")."""
    if method == "darts":
        return tuple(jax.nn.softmax(arch_params[k], -1) for k in ("channels", "kernels"))
    keys = jax.random.split(rng)
    return tuple(
        jax.random.dirichlet(key, jax.nn.elu(arch_params[k]) + 1.0)
        for key, k in zip(keys, ("channels", "kernels"), strict=True)
    )


def search_loss(params, batch, rng, *, model, step, method):
    """Both players' loss is the cross-entropy of the superposed network at α(arch): the weights
    descend it on training batches, the architecture on validation batches (the schedule)."""
    del step
    alpha_c, alpha_k = alphas(params["arch"], rng, method)
    logits = model.apply({"params": params["model"]}, batch["x"], alpha_c, alpha_k)
    loss = cross_entropy(logits, batch["y"])
    metrics = {"loss": loss, "accuracy": accuracy(logits, batch["y"])}
    return {"model": loss, "arch": loss}, metrics


SEARCH_OBJECTIVE = dict(schedule=(("arch",), ("model",)), batches_per_step=2, batch_index=(0, 1))


# --- the task


@dataclasses.dataclass(frozen=True, kw_only=True)
class TangleTask(Task):
    """One of `METHODS` (module docstring); `arrays` holds the digits split as constants."""

    arrays: dict

    @property
    def method(self) -> str:
        return self.config.method

    def optimizer(self, **values):
        return make_optimizer(self.config, **values)

    def example_inputs(self) -> tuple:
        alpha_c, alpha_k = layers.one_hot_alphas(0, self.model.num_layers)
        return (jnp.zeros((1, layers.IMAGE, layers.IMAGE, 1)), alpha_c, alpha_k)

    def init_member(self, init_key, train_key) -> TrainState:
        """The supernet's params; for "darts"/"drnas" `{"model": ..., "arch": {"channels",
        "kernels"}}` with the logits drawn as 1e-3·N(0, 1) (the official `_initialize_alphas`)."""
        model_key, arch_key = jax.random.split(init_key)
        params = self.model.init({"params": model_key}, *self.example_inputs())["params"]
        if self.method in SEARCH:
            shape = (self.model.num_layers, len(layers.CHANNELS))
            kc, kk = jax.random.split(arch_key)
            arch = {
                "channels": 1e-3 * jax.random.normal(kc, shape),
                "kernels": 1e-3 * jax.random.normal(kk, shape),
            }
            params = {"model": params, "arch": arch}
        return TrainState.create(params, self.tx, train_key)

    def _draw(self, key, x, y):
        index = jax.random.randint(key, (self.config.batch_size,), 0, x.shape[0])
        return {"x": x[index], "y": y[index]}

    def batch(self, key: jax.Array, step):
        """`batch_size` training examples drawn with replacement; for a search method stacked
        `[2, B]`: validation examples (the arch update), then training examples (the weights)."""
        key = jax.random.fold_in(key, step)
        a = self.arrays
        if self.method not in SEARCH:
            return self._draw(key, a["x_train"], a["y_train"])
        kv, kt = jax.random.split(key)
        val, train = (
            self._draw(kv, a["x_val"], a["y_val"]),
            self._draw(kt, a["x_train"], a["y_train"]),
        )
        return jax.tree.map(lambda u, v: jnp.stack([u, v]), val, train)

    @functools.cached_property
    def _one_hot_accuracy(self):
        """(params, arch index, split) -> accuracy of that architecture's one-hot supernet."""

        def fn(params, index, x, y):
            alpha_c, alpha_k = layers.one_hot_alphas(index, self.model.num_layers)
            return accuracy(self.model.apply({"params": params}, x, alpha_c, alpha_k), y)

        return jax.jit(fn)

    @functools.cached_property
    def _all_val_accuracy(self):
        n = len(layers.architectures(self.model.num_layers))
        x, y = self.arrays["x_val"], self.arrays["y_val"]
        fn = self._one_hot_accuracy
        return jax.jit(lambda p: jax.lax.map(lambda i: fn(p, i, x, y), jnp.arange(n)))

    def member_scores(self, params, config) -> dict[str, float]:
        """The evaluation of one member whose config is `config` (module docstring). The
        architecture's numbers are computed in numpy (no eager JAX op, so nothing to compile)."""
        a = self.arrays
        if config.method == "fixed":
            arch = config.objective.arch
            return {
                "eval/val_accuracy": float(
                    self._one_hot_accuracy(params, arch, a["x_val"], a["y_val"])
                ),
                "eval/test_accuracy": float(
                    self._one_hot_accuracy(params, arch, a["x_test"], a["y_test"])
                ),
                "eval/arch": float(arch),
            }
        model_params = params["model"] if config.method in SEARCH else params
        values = np.asarray(self._all_val_accuracy(model_params))
        out = {f"eval/supernet_val/a{i:02d}": float(v) for i, v in enumerate(values)}
        if config.method in SEARCH:
            arch = {k: np.asarray(v, np.float64) for k, v in params["arch"].items()}
            out["eval/chosen"] = float(layers.arch_of_alphas(arch["channels"], arch["kernels"]))
            if config.method == "drnas":  # the Dirichlet's mean
                probs = {k: np.where(v > 0, v, np.expm1(np.minimum(v, 0))) + 1 for k, v in
                         arch.items()}  # fmt: skip
            else:
                probs = {k: np.exp(v - v.max(-1, keepdims=True)) for k, v in arch.items()}
            probs = {k: v / v.sum(-1, keepdims=True) for k, v in probs.items()}
            for k, v in probs.items():
                for layer, row in enumerate(v):
                    for i, p in enumerate(row):
                        out[f"eval/alpha/{k}{layer}_{i}"] = float(p)
        return out

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        del key
        return self.member_scores(params, self.config)

    def evaluate_members(self, population, pop, names=None, key=None) -> list[dict]:
        """Each member scored with its own config (its architecture, for "fixed"); the members'
        params are read back once and sliced in numpy (an eager `x[m]` compiles per member)."""
        self.check_metric_names(names)
        params = jax.device_get(pop.members.params)
        return [
            self.member_scores(jax.tree.map(lambda x, m=m: x[m], params), population.configs[m])
            for m in range(population.size)
        ]

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)
        make_optimizer(config)


def validate(config: ml_collections.ConfigDict) -> None:
    validate_core(config)
    method = get_field(config, "method")
    if method not in METHODS:
        raise UserError(f"config field 'method': unknown {method!r}; known: {', '.join(METHODS)}")
    if method == "fixed":
        n = len(layers.architectures(get_field(config, "model.num_layers")))
        if not 0 <= get_field(config, "objective.arch") < n:
            raise UserError(
                f"config field 'objective.arch' must be in [0, {n}), got {config.objective.arch}"
            )
    if method in SEARCH:
        get_field(config, "arch_optimizer.learning_rate")


def build(config: ml_collections.ConfigDict) -> TangleTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    d = config.data
    xtr, ytr, xva, yva, xte, yte = digits_split(d.split_seed, d.num_val, d.num_test)
    arrays = {
        "x_train": jnp.asarray(xtr), "y_train": jnp.asarray(ytr),
        "x_val": jnp.asarray(xva), "y_val": jnp.asarray(yva),
        "x_test": jnp.asarray(xte), "y_test": jnp.asarray(yte),
    }  # fmt: skip
    model = layers.SuperNet(num_layers=config.model.num_layers)
    objective = None
    if config.method == "fixed":
        objective_fn, tx = fixed_loss, make_optimizer(config)
    elif config.method == "spos":
        objective_fn, tx = spos_loss, make_optimizer(config)
    else:
        objective_fn = functools.partial(search_loss, method=config.method)
        objective = MultiPlayer(objective_fn, **SEARCH_OBJECTIVE)
        arch_config = ml_collections.ConfigDict({"optimizer": config.arch_optimizer})
        tx = {"model": make_optimizer(config), "arch": make_optimizer(arch_config)}
    return TangleTask(
        config=config,
        model=model,
        objective_fn=objective_fn,
        tx=tx,
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        objective=objective,
        arrays=arrays,
    )
