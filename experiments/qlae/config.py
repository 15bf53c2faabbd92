"""Disentanglement via Latent Quantization (Hsu et al. 2023): one model of its tables per run.

Argument: comma-separated `key=value` items and flags, e.g. `config.py:model=vq_vae,seed=1`:
- `model`: qlae (default), qlae_global, ae, vae, tcvae, bio_ae, vq_vae (the paper's autoencoders);
- `dataset` (default shapes3d_procedural), `seed` (default 0);
- `no_weight_decay`: the "w/o weight decay" ablations;
- `smoke`: a few steps of the model's `_tiny` variant (tests).
Everything else is the QLAE code (kylehkhsu/latent_quantization, `configs/train_ae.yaml`,
`configs/model_partial/*.yaml`, `configs/params/*/*.yaml`): 12-block encoder and style decoder,
2 latents per source, batch 128, 200,000 steps, AdamW(1e-3) with the model's weight decay and
element-wise gradient clipping 1.0 on all weights but biases and codebooks, Adam on those.
"""

import math

import ml_collections

from disentax import config as config_lib
from disentax import data
from disentax.errors import UserError

# model -> (disentax model, objective with its hyperparameters, weight decay, codebook?)
MODELS = {
    "qlae": ("qlae", {"name": "qlae", "quantization": 0.01, "commitment": 0.01}, 0.1, True),
    "qlae_global": (
        "qlae_global",
        {"name": "qlae", "quantization": 0.01, "commitment": 0.01},
        0.1,
        True,
    ),
    # The AE baseline: a continuous latent and BCE only (BioAE's model with both weights 0).
    "ae": ("qlae_bio_ae", {"name": "bio_ae", "nonnegative": 0.0, "activity": 0.0}, 1e-3, False),
    "vae": ("qlae_vae", {"name": "qlae_vae", "beta": 1.0}, 0.0, False),
    "tcvae": ("qlae_vae", {"name": "qlae_tc_vae", "total_correlation": 1.0}, 0.0, False),
    "bio_ae": ("qlae_bio_ae", {"name": "bio_ae", "nonnegative": 1.0, "activity": 0.1}, 1e-4, False),
    "vq_vae": (
        "qlae_vq_vae",
        {"name": "vq_vae", "quantization": 1.0, "commitment": 0.25},
        0.01,
        True,
    ),
}
# Per-dataset values of `configs/params/<model>/<dataset>.yaml`: (model, hyperparameter) -> value.
PER_DATASET = {
    "shapes3d": {
        ("qlae", "wd"): 0.1,
        ("vae", "beta"): 3.0,
        ("tcvae", "total_correlation"): 3.0,
        ("bio_ae", "activity"): 0.01,
    },
    "mpi3d": {
        ("qlae", "wd"): 1e-3,
        ("vae", "beta"): 0.1,
        ("tcvae", "total_correlation"): 0.3,
        ("bio_ae", "activity"): 0.01,
    },
    "falcor3d": {
        ("qlae", "wd"): 0.1,
        ("vae", "beta"): 10.0,
        ("tcvae", "total_correlation"): 3.0,
        ("bio_ae", "activity"): 0.01,
    },
    "isaac3d": {
        ("qlae", "wd"): 0.1,
        ("vae", "beta"): 0.3,
        ("tcvae", "total_correlation"): 1.0,
        ("bio_ae", "activity"): 0.1,
    },
}
# Sources per dataset family (num_latents = 2 × sources); other datasets are asked for theirs.
SOURCES = {"shapes3d": 6, "mpi3d": 7, "falcor3d": 7, "isaac3d": 9, "dsprites": 5}
# Images per dataset (family), the product of the factor sizes: the TC-VAE's N when the dataset
# is not prepared here.
SIZES = {
    "mpi3d_real": 1_036_800,
    "shapes3d": 480_000,
    "mpi3d": 460_800,
    "falcor3d": 233_280,
    "isaac3d": 737_280,
    "dsprites": 737_280,
}
DEFAULT_DATASET = "shapes3d_procedural"
FLAGS = ("smoke", "no_weight_decay")


def parse_arg(arg: str | None) -> tuple[dict[str, str], set[str]]:
    """`"a=1,b=x,smoke"` -> ({"a": "1", "b": "x"}, {"smoke"})."""
    values, flags = {}, set()
    for item in (arg or "").split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if sep:
            values[key] = value
        elif key:
            flags.add(key)
    return values, flags


def family(dataset: str) -> str | None:
    """The QLAE dataset whose hyperparameters `dataset` takes (shapes3d_procedural -> shapes3d)."""
    return next((f for f in SOURCES if f in dataset), None)


def num_sources(dataset: str) -> int:
    if family(dataset) is not None:
        return SOURCES[family(dataset)]
    return len(data.get(dataset).factor_sizes)


def dataset_size(dataset: str) -> int:
    try:
        return math.prod(data.get(dataset).factor_sizes)
    except UserError:
        if family(dataset) is None:
            raise
        return SIZES.get(dataset, SIZES[family(dataset)])


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    values, flags = parse_arg(arg)
    if flags - set(FLAGS):
        raise UserError(
            f"unknown flag(s) {', '.join(sorted(flags - set(FLAGS)))}; allowed: {', '.join(FLAGS)}"
        )
    if set(values) - {"model", "dataset", "seed"}:
        raise UserError(
            f"unknown key(s) {', '.join(sorted(set(values) - {'model', 'dataset', 'seed'}))}; "
            "allowed: model, dataset, seed"
        )
    name = values.get("model", "qlae")
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    model, objective, weight_decay, has_codebook = MODELS[name]
    dataset = values.get("dataset", DEFAULT_DATASET)
    tuned = PER_DATASET.get(family(dataset), {})
    objective = dict(objective)
    for (model_name, field), value in tuned.items():
        if model_name == name and field == "wd":
            weight_decay = value
        elif model_name == name:
            objective[field] = value
    try:
        seed = int(values.get("seed", 0))
    except ValueError:
        raise UserError(f"seed must be an int, got {values['seed']!r}") from None

    c = config_lib.load_config("beta_vae")
    c.dataset = dataset
    c.seed = seed
    c.model = model
    c.num_latents = 2 * num_sources(dataset)
    if objective["name"] == "qlae_tc_vae":
        objective["dataset_size"] = dataset_size(dataset)
    c.objective = ml_collections.ConfigDict(objective)
    c.optimizer = ml_collections.ConfigDict(
        {
            "learning_rate": 1e-3,
            "b1": 0.9,
            "b2": 0.999,
            "eps": 1e-8,
            "weight_decay": 0.0 if "no_weight_decay" in flags else weight_decay,
            "decay_pattern": ".",
            "decay_exclude": ("(^|/)bias$", "(^|/)codebook$") if has_codebook else ("(^|/)bias$",),
            "clip": 1.0,
        }
    )
    c.batch_size = 128
    c.num_steps = 200_000
    c.log_every_steps = 500
    c.checkpoint_every_steps = 5_000
    c.eval.traversal_range = (
        2.0 if name in ("vae", "tcvae") else 0.5
    )  # codebooks start in [-0.5, 0.5]
    if "smoke" in flags:  # a few steps of the tiny variant and a minimal evaluation
        c.model = f"{model}_tiny"
        c.batch_size = 8
        c.num_steps = 2
        c.log_every_steps = 1
        c.checkpoint_every_steps = 2
        c.eval.metrics = "mig"
        c.eval.representations = "mean"
        c.eval.num_samples = 64
        c.eval.num_test_samples = 32
        c.eval.batch_size = 32
        c.eval.num_images = 2
        c.eval.traversal_steps = 2
    return c
