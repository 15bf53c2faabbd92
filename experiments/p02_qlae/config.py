"""Disentanglement via Latent Quantization (Hsu et al. 2023): one model of its tables per run.

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`experiments/p02_qlae/config.py:model=vq_vae,seed=1,cpu`:
- `model`: qlae (default), qlae_global, ae, vae, tcvae, bio_ae, vq_vae (the paper's autoencoders),
  info_wgan, ql_info_wgan (its GANs: InfoWGAN-GP, QLInfoWGAN-GP);
- `dataset` (default shapes3d_procedural), `seed` (default 0);
- `no_weight_decay`: the "w/o weight decay" ablations;
- `steps`, `lr` (defaults 200,000 and 1e-3, the paper's): a shorter or faster run whose weight
  decay is rescaled to keep the paper's lr·λ·T (`hold_decay_time`);
- the setting, one flag: `paper` (the default: the paper's scale, below), `cpu` (the model as
  the claim run's table trains it, `SETTINGS["cpu"]`; a GAN as the GAN rows', `"gpu_gans"`) or
  `smoke` (a few steps of the model's `_tiny` variant, for tests).
The tables of `run.py` are `SETTINGS`; `member_config` is one member of one. The reduced runs'
datasets and networks (`shapes3d_procedural_16px`, `qlae_16px`, ...) are registered by
`components.py`, which every config names in `config.components`.
Everything else is the QLAE code (kylehkhsu/latent_quantization, `configs/train_ae.yaml`,
`configs/model_partial/*.yaml`, `configs/params/*/*.yaml`): 12-block encoder and style decoder,
2 latents per source, batch 128, 200,000 steps, AdamW(1e-3) with the model's weight decay and
element-wise gradient clipping 1.0 on all weights but biases and codebooks, Adam on those.
The GANs (`configs/train_gan.yaml`, `configs/model_partial/*info_gan.yaml`): the same networks as
generator and critic, batch 64, 200,000 critic updates (40,000 steps of 5 critic updates and one
generator update), both players AdamW(2e-4, β1 0, β2 0.9) with weight decay 1e-4 (InfoWGAN-GP) or
1e-3 (QLInfoWGAN-GP) and the same clipping and exclusions.
"""

import dataclasses
import math

import ml_collections

from disentax import config as config_lib
from disentax import data
from disentax.errors import UserError
from disentax.objectives.gan import N_CRITIC

COMPONENTS = ("experiments.p02_qlae.components",)


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
SETTING_FLAGS = ("smoke", "cpu", "paper")
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
    """One model's config in the setting the argument names (module docstring)."""
    args = config_lib.parse_arg(
        arg,
        model="qlae",
        dataset=DEFAULT_DATASET,
        seed=0,
        steps=PAPER_STEPS,
        lr=PAPER_LEARNING_RATE,
        no_weight_decay=False,
        **dict.fromkeys(SETTING_FLAGS, False),
    )
    if sum(args[flag] for flag in SETTING_FLAGS) > 1:
        raise UserError(f"name one setting of {', '.join(SETTING_FLAGS)}, got {arg!r}")
    if args.model not in MODELS and args.model not in GANS:
        raise UserError(f"unknown model {args.model!r}; known: {', '.join([*MODELS, *GANS])}")
    if args.cpu:
        reduced = (args.dataset, args.steps, args.lr) != (
            DEFAULT_DATASET,
            PAPER_STEPS,
            PAPER_LEARNING_RATE,
        )
        if reduced:
            raise UserError("cpu is a table's setting: it fixes dataset, steps and lr")
        model = args.model + (NO_WD if args.no_weight_decay else "")
        table = SETTINGS["gpu_gans" if args.model in GANS else "cpu"]
        return member_config(model, args.seed, table)
    c = gan_config(args) if args.model in GANS else autoencoder_config(args)
    c.components = COMPONENTS
    if args.smoke:
        smoke(c)
    return c


def autoencoder_config(args: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """An autoencoder of `MODELS` at the paper's scale (`steps`, `lr`: `hold_decay_time`)."""
    model, objective, weight_decay, has_codebook = MODELS[args.model]
    tuned = PER_DATASET.get(family(args.dataset), {})
    objective = dict(objective)
    for (model_name, field), value in tuned.items():
        if model_name == args.model and field == "wd":
            weight_decay = value
        elif model_name == args.model:
            objective[field] = value
    c = config_lib.load_config("beta_vae")
    c.dataset = args.dataset
    c.seed = args.seed
    c.model = model
    c.num_latents = 2 * num_sources(args.dataset)
    if objective["name"] == "qlae_tc_vae":
        objective["dataset_size"] = dataset_size(args.dataset)
    c.objective = ml_collections.ConfigDict(objective)
    c.optimizer = ml_collections.ConfigDict(
        {
            "learning_rate": PAPER_LEARNING_RATE,
            "b1": 0.9,
            "b2": 0.999,
            "eps": 1e-8,
            "weight_decay": 0.0 if args.no_weight_decay else weight_decay,
            "decay_pattern": ".",
            "decay_exclude": ("(^|/)bias$", "(^|/)codebook$") if has_codebook else ("(^|/)bias$",),
            "clip": 1.0,
        }
    )
    c.batch_size = 128
    c.num_steps = PAPER_STEPS
    c.log_every_steps = 500
    c.checkpoint_every_steps = 5_000
    # Codebooks start in [-0.5, 0.5].
    c.eval.traversal_range = 2.0 if args.model in ("vae", "tcvae") else 0.5
    if (args.steps, args.lr) != (PAPER_STEPS, PAPER_LEARNING_RATE):
        hold_decay_time(c, args.steps, args.lr)
    return c


def smoke(c: ml_collections.ConfigDict) -> None:
    """A few steps of the model's tiny variant and a minimal evaluation."""
    c.model = f"{c.model}_tiny"
    c.batch_size = 8
    config_lib.smoke(c)
    c.eval.num_test_samples = 32


def gan_config(args: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """InfoWGAN-GP / QLInfoWGAN-GP as `configs/train_gan.yaml`: players "critic" and
    "generator", each with its own optimizer (`critic_optimizer`, `generator_optimizer`)."""
    model, objective, weight_decay = GANS[args.model]
    if (args.steps, args.lr) != (PAPER_STEPS, PAPER_LEARNING_RATE):
        raise UserError(f"steps and lr apply to the autoencoders, not to {args.model}")
    c = config_lib.load_config("beta_vae")
    c.dataset = args.dataset
    c.seed = args.seed
    c.model = model
    c.num_latents = 2 * num_sources(args.dataset)
    c.objective = ml_collections.ConfigDict({"name": objective})
    optimizer = {
        "learning_rate": 2e-4,
        "b1": 0.0,
        "b2": 0.9,
        "eps": 1e-8,
        "weight_decay": 0.0 if args.no_weight_decay else weight_decay,
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
    return c


NO_WD = "_no_wd"  # a table's model name for a "w/o weight decay" ablation
LABELS = {
    "qlae": "QLAE",
    "qlae_no_wd": "QLAE w/o weight decay",
    "qlae_global": "QLAE w/ global codebook",
    "ae": "AE",
    "vae": "β-VAE",
    "tcvae": "β-TCVAE",
    "bio_ae": "BioAE",
    "vq_vae": "VQ-VAE w/ weight decay",
    "vq_vae_no_wd": "VQ-VAE w/o weight decay",
    "info_wgan": "InfoWGAN-GP",
    "ql_info_wgan": "QLInfoWGAN-GP",
    "ql_info_wgan_no_wd": "QLInfoWGAN-GP w/o weight decay",
}


@dataclasses.dataclass(frozen=True)
class Setting:
    """One reduced-scale table: every model in `models` trained once per seed in `seeds`.

    The models are `get_config`'s with `variant` appended (`_tiny`, `_16px`), trained on
    `dataset` for `num_steps` steps of `batch_size`, learning rate `learning_rate` and the
    config's weight decay times `weight_decay_scale`, or, when that is None, times
    `decay_scale(learning_rate, num_steps)` (the paper's lr·λ·T held);
    `model_weight_decay_scales` (model, factor) pairs replace `weight_decay_scale` for those
    models. The GANs (`GANS`) keep the config's learning rates (2e-4) and, when their factor is
    None, its weight decay; their steps are generator updates (5 critic updates each). Scored
    on `num_eval_samples` i.i.d. images (DCI, when `dci` is set, fits on the first half and
    tests on the second).
    """

    dataset: str
    variant: str
    models: tuple[str, ...]
    seeds: tuple[int, ...]
    num_steps: int
    batch_size: int
    learning_rate: float
    weight_decay_scale: float | None
    num_eval_samples: int
    dci: bool
    model_weight_decay_scales: tuple[tuple[str, float | None], ...] = ()


# Scored on 10,000 images, as the QLAE code (`val_set = train_split.take(10000)`): at 2,000 the
# discrete InfoE's in-sample fit adds about 0.09 more than the continuous one's (random codes,
# NOTES.md "Weight decay held at the paper's lr·λ·T").
SETTINGS = {
    # Seconds: two steps of the `_tiny` nets, scored on 64 images (tests).
    "smoke": Setting(
        dataset="shapes3d_procedural_16px",
        variant="_tiny",
        models=("qlae", "ae"),
        seeds=(0, 1),
        num_steps=2,
        batch_size=8,
        learning_rate=1e-3,
        weight_decay_scale=1.0,
        num_eval_samples=64,
        dci=False,
    ),
    # The claim run (NOTES.md calls it setting "test"): 600 steps, about 25 minutes on 2 cores.
    "cpu": Setting(
        dataset="shapes3d_procedural_16px",
        variant="_16px",
        models=("qlae", "ae", "vae", "qlae_no_wd"),
        seeds=(0, 1, 2),
        num_steps=600,
        batch_size=64,
        learning_rate=1e-3,
        weight_decay_scale=10.0,
        num_eval_samples=10_000,
        dci=False,
    ),
    "long": Setting(
        dataset="shapes3d_procedural_16px",
        variant="_16px",
        models=tuple(m for m in LABELS if m.removesuffix(NO_WD) not in GANS),
        seeds=(0, 1, 2, 3, 4),
        num_steps=3000,
        batch_size=64,
        learning_rate=1e-3,
        weight_decay_scale=10.0,
        num_eval_samples=10_000,
        dci=True,
    ),
    # 20,000 steps at the paper's batch and learning rate, about 5 minutes per model on one
    # H200 and 35 on this CPU. QLAE's decay (and its global-codebook ablation's) acts for
    # lr·λ·T = 5 (λ = 0.25): held at the paper's 20 (λ = 1.0) it loses 5 dB and most of its
    # InfoM and InfoE; the other models' is held (AE λ = 0.01). The first four models ran on an
    # H200, the other five on this CPU (NOTES.md "On a GPU", "On this CPU").
    "gpu": Setting(
        dataset="shapes3d_procedural_16px",
        variant="_16px",
        models=(
            "qlae",
            "ae",
            "qlae_no_wd",
            "vae",
            "tcvae",
            "bio_ae",
            "vq_vae",
            "vq_vae_no_wd",
            "qlae_global",
        ),
        seeds=(0, 1, 2),
        num_steps=20_000,
        batch_size=128,
        learning_rate=1e-3,
        weight_decay_scale=None,
        num_eval_samples=10_000,
        dci=False,
        model_weight_decay_scales=(("qlae", 2.5), ("qlae_global", 2.5)),
    ),
    # The GAN rows. Batch 64 and lr 2e-4 are the paper's; 2,000 generator updates (10,000
    # critic updates) are a twentieth of its 200,000 critic updates, so the weight decay × 20
    # holds its lr·λ·T, 0.04 for QLInfoWGAN-GP's critic (`learning_rate` is unused: the GANs keep
    # config.py's). A step is 6 updates: on a CPU about 0.3 s for the 3 seeds (`_tiny`).
    "gpu_gans": Setting(
        dataset="shapes3d_procedural_16px",
        variant="_16px",
        models=("info_wgan", "ql_info_wgan", "ql_info_wgan_no_wd"),
        seeds=(0, 1, 2),
        num_steps=2_000,
        batch_size=64,
        learning_rate=2e-4,
        weight_decay_scale=20.0,
        num_eval_samples=10_000,
        dci=False,
    ),
    # The paper's scale (`get_config`'s defaults: 64 px, the full networks, batch 128, 200,000
    # steps at 1e-3, the model's own weight decay), for accelerators; the GANs' is
    # `get_config("model=info_wgan")`.
    "paper": Setting(
        dataset=DEFAULT_DATASET,
        variant="",
        models=tuple(m for m in LABELS if m.removesuffix(NO_WD) not in GANS),
        seeds=(0, 1, 2),
        num_steps=PAPER_STEPS,
        batch_size=128,
        learning_rate=PAPER_LEARNING_RATE,
        weight_decay_scale=None,
        num_eval_samples=10_000,
        dci=True,
    ),
}


def require_known(model: str) -> None:
    """A one-line error for a model name outside `LABELS`."""
    if model not in LABELS:
        raise UserError(f"unknown model {model!r}; known: {', '.join(LABELS)}")


def member_config(model: str, seed: int, setting: Setting) -> ml_collections.ConfigDict:
    """`get_config`'s config of `model` (a `_no_wd` suffix: its "w/o weight decay" flag) with the
    reduced `setting` applied.

    A GAN (`GANS`) keeps the config's learning rates (2e-4) and takes `setting.num_steps`
    generator updates; its weight decay is multiplied by the model's factor in `optimizer`,
    `critic_optimizer` and `generator_optimizer` alike, and left as the config's when the factor
    is None (`steps`, `lr` are the autoencoders' only)."""
    require_known(model)
    base = model.removesuffix(NO_WD)
    flags = ",no_weight_decay" if model.endswith(NO_WD) else ""
    scale = dict(setting.model_weight_decay_scales).get(base, setting.weight_decay_scale)
    if scale is None and base not in GANS:  # `steps`, `lr`: lr·λ·T held
        flags += f",steps={setting.num_steps},lr={setting.learning_rate!r}"
    c = get_config(f"model={base},dataset={setting.dataset},seed={seed}{flags}")
    c.model += setting.variant
    c.batch_size = setting.batch_size
    c.num_steps = setting.num_steps
    if base in GANS:
        for group in ("optimizer", "critic_optimizer", "generator_optimizer"):
            c[group].weight_decay *= 1.0 if scale is None else scale
    elif scale is not None:
        c.optimizer.learning_rate = setting.learning_rate
        c.optimizer.weight_decay *= scale
    return c
