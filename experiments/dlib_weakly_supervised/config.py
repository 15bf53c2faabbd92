"""Ada-GVAE / Ada-ML-VAE on weakly-supervised pairs (Locatello et al. 2020, disentanglement_lib).

Argument (`disentax.config.parse_arg`): comma-separated `key=value` items and flags, e.g.
`config.py:model=ada_ml_vae,beta=4,k=1,dataset=shapes3d_procedural,seed=2`:
- `model`: ada_gvae (default) or ada_ml_vae;
- `beta` (default 1), the weight of the KL term;
- `k`: factors changed per pair, 1..K-1, or -1 (default) for k ~ U{1..K-1} per pair;
- `dynamics`: "dlib" (default: disentanglement_lib's `simple_dynamics`, which resamples 1 or k
  factors, each uniformly over all its values) or "exact" (exactly k factors changed);
- `dataset` (default dsprites_procedural), `seed` (default 0);
- `smoke`: a few steps of `tiny_conv_vae` (tests).
The rest follows disentanglement_lib's training defaults: batch 64 pairs (128 images), 300,000
steps, Adam(1e-4, 0.9, 0.999, 1e-8), 10 latents, conv encoder / deconv decoder, Bernoulli loss.
"""

import ml_collections

from disentax import config as config_lib
from disentax.errors import UserError

MODELS = ("ada_gvae", "ada_ml_vae")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """One Ada-GVAE / Ada-ML-VAE run (module docstring)."""
    args = config_lib.parse_arg(
        arg,
        model="ada_gvae",
        beta=1.0,
        k=-1,
        dynamics="dlib",
        dataset="dsprites_procedural",
        seed=0,
        smoke=False,
    )
    if args.model not in MODELS:
        raise UserError(f"unknown model {args.model!r}; known: {', '.join(MODELS)}")
    c = config_lib.load_config("beta_vae:tiny" if args.smoke else "beta_vae")
    c.dataset = args.dataset
    c.seed = args.seed
    c.objective = ml_collections.ConfigDict({"name": args.model, "beta": args.beta})
    c.data_pairs_k = args.k  # validated against the dataset's K
    c.data_pairs_dynamics = args.dynamics
    if args.smoke:  # two steps and a minimal evaluation: checks that the run works
        config_lib.smoke(c)
    else:
        c.model = "dlib_conv_vae"
        c.num_latents = 10
        c.batch_size = 64
        c.num_steps = 300_000
        c.log_every_steps = 500
        c.checkpoint_every_steps = 10_000
        c.optimizer.learning_rate = 1e-4
        c.optimizer.b1, c.optimizer.b2, c.optimizer.eps = 0.9, 0.999, 1e-8
    return c
