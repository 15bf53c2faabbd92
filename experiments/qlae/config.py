"""Disentanglement via Latent Quantization (Hsu et al. 2023): one model of its tables per run.

Argument: comma-separated `key=value` items and flags, e.g. `config.py:model=vq_vae,seed=1`:
- `model`: qlae (default), qlae_global, ae, vae, tcvae, bio_ae, vq_vae (the paper's autoencoders),
  info_wgan, ql_info_wgan (its GANs: InfoWGAN-GP, QLInfoWGAN-GP);
- `dataset` (default shapes3d_procedural), `seed` (default 0);
- `no_weight_decay`: the "w/o weight decay" ablations;
- `steps`, `lr` (defaults 200,000 and 1e-3, the paper's): a shorter or faster run whose weight
  decay is rescaled to keep the paper's lr·λ·T (`hold_decay_time`);
- `smoke`: a few steps of the model's `_tiny` variant (tests).
Loading this file registers `shapes3d_procedural_16px` and `dsprites_procedural_16px` (`pooled`),
the datasets of the reduced-scale runs (`run.py`), and the `_16px` networks (`NETWORKS_16PX`).
Everything else is the QLAE code (kylehkhsu/latent_quantization, `configs/train_ae.yaml`,
`configs/model_partial/*.yaml`, `configs/params/*/*.yaml`): 12-block encoder and style decoder,
2 latents per source, batch 128, 200,000 steps, AdamW(1e-3) with the model's weight decay and
element-wise gradient clipping 1.0 on all weights but biases and codebooks, Adam on those.
The GANs (`configs/train_gan.yaml`, `configs/model_partial/*info_gan.yaml`): the same networks as
generator and critic, batch 64, 200,000 critic updates (40,000 steps of 5 critic updates and one
generator update), both players AdamW(2e-4, β1 0, β2 0.9) with weight decay 1e-4 (InfoWGAN-GP) or
1e-3 (QLInfoWGAN-GP) and the same clipping and exclusions.
"""

import functools
import math

import ml_collections

from disentax import config as config_lib
from disentax import data
from disentax.data.base import DATASETS
from disentax.data.dsprites import ProceduralDSprites
from disentax.data.shapes3d import ProceduralShapes3D
from disentax.errors import UserError
from disentax.models import MODELS
from disentax.models.qlae import ConvStack
from disentax.objectives.gan import N_CRITIC


def pooled(base: type, factor: int) -> type:
    """`base` (a procedural dataset class) with its images mean-pooled over `factor` × `factor`
    blocks, registered as `<base.name>_<pixels>px` (the reduced-scale runs: same factors, a
    `factor`² times cheaper network)."""
    height, width, channels = base.observation_shape

    class Pooled(base):
        name = f"{base.name}_{height // factor}px"
        observation_shape = (height // factor, width // factor, channels)

        def observations_from_factors(self, factors_NxK, rng=None):
            """`base`'s images `[N, H, W, C]` averaged to `[N, H/factor, W/factor, C]`."""
            x = super().observations_from_factors(factors_NxK, rng)
            blocks = (x.shape[0], height // factor, factor, width // factor, factor, channels)
            return x.reshape(blocks).mean(axis=(2, 4))

    if Pooled.name not in DATASETS:  # this file is executed on every load
        DATASETS.register(Pooled.name, Pooled)
    return Pooled


REDUCED_DATASETS = tuple(pooled(base, 4).name for base in (ProceduralShapes3D, ProceduralDSprites))

# Networks for 16 × 16 images whose last encoder map (and the decoder's input map) is 4 × 4, as
# the paper's at 64 × 64 (the `_tiny` latents: VQ-VAE 16 codes of 4). At 16 px the `_tiny`
# encoder ends at 2 × 2, where the per-channel instance norm keeps a normalised pattern of 4
# values (of two uniform regions, only the sign of their contrast), and `_small` at 1 × 1, where
# it keeps nothing: `_small`'s encoder output is the same for every image.
ENCODER_16PX = ConvStack((8, 16, 16), (3, 4, 4), (1, 2, 2), (32,))
DECODER_16PX = ConvStack((16, 16, 8), (4, 4, 3), (2, 2, 1), (32,))
NETWORKS_16PX = (
    "qlae",
    "qlae_global",
    "qlae_vq_vae",
    "qlae_bio_ae",
    "qlae_vae",
    "info_wgan",
    "ql_info_wgan",
)
for _name in NETWORKS_16PX:
    if f"{_name}_16px" not in MODELS:  # this file is executed on every load
        MODELS.register(
            f"{_name}_16px",
            functools.partial(
                MODELS.get(f"{_name}_tiny"),
                encoder_stack=ENCODER_16PX,
                decoder_stack=DECODER_16PX,
            ),
        )

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
# GANs: model -> (disentax model, objective, weight decay); the same for every dataset.
GANS = {
    "info_wgan": ("info_wgan", "info_wgan_gp", 1e-4),
    "ql_info_wgan": ("ql_info_wgan", "ql_info_wgan_gp", 1e-3),
}
GAN_CRITIC_UPDATES = 200_000  # QLAE `optim.num_steps`: critic updates, 5 per disentax step
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
KEYS = ("model", "dataset", "seed", "steps", "lr")
# The paper's run length and learning rate (`configs/train_ae.yaml`).
PAPER_STEPS = 200_000
PAPER_LEARNING_RATE = 1e-3


def decay_scale(learning_rate: float, num_steps: int) -> float:
    """The factor on the paper's weight decay λ that keeps lr·λ·T at the paper's value in a run of
    `num_steps` steps at `learning_rate`: (1e-3 · 200,000) / (lr · T).

    optax.adamw (the QLAE code's optimiser for the regularised weights) shrinks a weight by
    lr·λ·θ per step, so lr·λ·T counts the decay's time constants: 20 for QLAE on shapes3d
    (1e-3 · 0.1 · 200,000), 0.2 for the AE (λ = 0.001).
    """
    if learning_rate <= 0 or num_steps <= 0:
        raise UserError(f"learning rate and steps must be > 0, got {learning_rate} and {num_steps}")
    return PAPER_LEARNING_RATE * PAPER_STEPS / (learning_rate * num_steps)


def hold_decay_time(c: ml_collections.ConfigDict, num_steps: int, learning_rate: float) -> None:
    """Sets `c`'s steps and learning rate and multiplies its weight decay by
    `decay_scale(learning_rate, num_steps)` (the masks are unchanged: biases and codebooks stay
    undecayed)."""
    c.optimizer.weight_decay *= decay_scale(learning_rate, num_steps)
    c.num_steps = num_steps
    c.optimizer.learning_rate = learning_rate


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
    values, flags = config_lib.parse_arg(arg)
    if flags - set(FLAGS):
        raise UserError(
            f"unknown flag(s) {', '.join(sorted(flags - set(FLAGS)))}; allowed: {', '.join(FLAGS)}"
        )
    if set(values) - set(KEYS):
        raise UserError(
            f"unknown key(s) {', '.join(sorted(set(values) - set(KEYS)))}; "
            f"allowed: {', '.join(KEYS)}"
        )
    name = values.get("model", "qlae")
    if name not in MODELS and name not in GANS:
        raise UserError(f"unknown model {name!r}; known: {', '.join([*MODELS, *GANS])}")
    if name in GANS:
        return gan_config(name, values, flags)
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
            "learning_rate": PAPER_LEARNING_RATE,
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
    c.num_steps = PAPER_STEPS
    c.log_every_steps = 500
    c.checkpoint_every_steps = 5_000
    c.eval.traversal_range = (
        2.0 if name in ("vae", "tcvae") else 0.5
    )  # codebooks start in [-0.5, 0.5]
    if "steps" in values or "lr" in values:
        hold_decay_time(
            c,
            config_lib.arg_value(values, "steps", PAPER_STEPS, int),
            config_lib.arg_value(values, "lr", PAPER_LEARNING_RATE, float),
        )
    if "smoke" in flags:
        smoke(c)
    return c


def smoke(c: ml_collections.ConfigDict) -> None:
    """A few steps of the model's tiny variant and a minimal evaluation."""
    c.model = f"{c.model}_tiny"
    c.batch_size = 8
    config_lib.smoke(c)
    c.eval.num_test_samples = 32


def gan_config(name: str, values: dict[str, str], flags: set[str]) -> ml_collections.ConfigDict:
    """InfoWGAN-GP / QLInfoWGAN-GP as `configs/train_gan.yaml`: players "critic" and
    "generator", each with its own optimizer (`critic_optimizer`, `generator_optimizer`)."""
    model, objective, weight_decay = GANS[name]
    if {"steps", "lr"} & set(values):
        raise UserError(f"steps and lr apply to the autoencoders, not to {name}")
    dataset = values.get("dataset", DEFAULT_DATASET)
    try:
        seed = int(values.get("seed", 0))
    except ValueError:
        raise UserError(f"seed must be an int, got {values['seed']!r}") from None
    c = config_lib.load_config("beta_vae")
    c.dataset = dataset
    c.seed = seed
    c.model = model
    c.num_latents = 2 * num_sources(dataset)
    c.objective = ml_collections.ConfigDict({"name": objective})
    optimizer = {
        "learning_rate": 2e-4,
        "b1": 0.0,
        "b2": 0.9,
        "eps": 1e-8,
        "weight_decay": 0.0 if "no_weight_decay" in flags else weight_decay,
        "decay_pattern": ".",
        "decay_exclude": ("(^|/)bias$",),
        "clip": 1.0,
    }
    # `optimizer` is not used by a two-player objective; it is kept equal to the critic's.
    c.optimizer = ml_collections.ConfigDict(optimizer)
    c.critic_optimizer = ml_collections.ConfigDict(optimizer)
    if objective == "ql_info_wgan_gp":  # the codebook is the generator's
        optimizer["decay_exclude"] = ("(^|/)bias$", "(^|/)codebook$")
    c.generator_optimizer = ml_collections.ConfigDict(optimizer)
    c.batch_size = 64
    c.num_steps = GAN_CRITIC_UPDATES // N_CRITIC
    c.log_every_steps = 100
    c.checkpoint_every_steps = 1_000  # QLAE: every 5,000 critic updates
    c.eval.traversal_range = 0.5
    if "smoke" in flags:
        smoke(c)
    return c
