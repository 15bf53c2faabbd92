"""β-VAE (disentanglement_lib's loss) on procedural dSprites: the first run, and the paper's.

Arguments:
- `beta_vae` (default): the run `disentax train` makes with no arguments, a few minutes on 2
  CPU cores. disentanglement_lib's data, loss and evaluation (Bernoulli loss summed over
  pixels + β·KL, β = 4, 10 latents, batch 64; MIG and the rest on 10,000 points) on a smaller
  network, `small_fc_vae` (256-unit fully connected layers), with Adam at 1e-3 for 3,000 steps.
  disentanglement_lib's own setting (conv network, Adam 1e-4) barely moves in the steps a CPU
  gives it in minutes: after 1,000 steps (3 min) its KL has only begun to rise and its
  traversals show blobs (MIG 0.025). This network compiles in seconds and runs several times as
  many steps per second on XLA:CPU, and at 1e-3 its KL rises from step ~300. Its three or four
  active latents carry position and size, but mixed (size gets a latent of its own in some
  seeds, x and y not): MIG 0.052 ± 0.019 over seeds 0–2, in 181–231 s for the whole command
  (2 cores at load 7–9; experiments/benchmarks/default_run.py, results/default_run.json).
  5,000 steps gave seed 0 the same MIG; disentangling x and y takes far more training
  (`beta_vae:full`).
- `beta_vae:full`: disentanglement_lib's setting (`dlib_conv_vae`, Adam 1e-4, batch 64, β = 4,
  300k steps).
- `beta_vae:tiny`: a tiny conv model and a few steps, for tests.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.dataset = "dsprites_procedural"
    # Keyword options of the dataset's constructor, e.g. xysquares' `square_size`, a stored
    # dataset's `data_dir`; `dataset_options.NAME=VALUE` on the command line adds one.
    c.dataset_options = ml_collections.ConfigDict()
    c.data_sampling = "iid"  # i.i.d. factors as disentanglement_lib, or "epochs" (shuffled)
    c.model = "small_fc_vae"
    c.num_latents = 10
    c.objective = ml_collections.ConfigDict({"name": "beta_vae", "beta": 4.0})
    c.optimizer = ml_collections.ConfigDict(
        {
            "learning_rate": 1e-3,
            "b1": 0.9,
            "b2": 0.999,
            "eps": 1e-8,
            "weight_decay": 0.0,
            "decay_pattern": "kernel",
        }
    )
    c.batch_size = 64
    c.num_steps = 3000
    c.log_every_steps = 50
    c.checkpoint_every_steps = 1000
    c.keep_checkpoints = 3
    c.async_checkpoints = True
    c.eval = ml_collections.ConfigDict(
        {
            "metrics": "mig,modularity,irs,unsupervised",
            "representations": "mean,sampled",  # disentanglement_lib scores both
            "every_steps": 0,  # also evaluate every this many steps (0: at the end only)
            # the codes the sample metrics score; also the interventional metrics' training draws
            "num_samples": 10_000,
            # held-out samples of the split metrics (SAP, DCI); also the interventional metrics'
            # evaluation draws (metrics.suite: 10,000 / 5,000 are disentanglement_lib's sizes)
            "num_test_samples": 5_000,
            "batch_size": 500,
            "num_bins": 20,
            "num_images": 8,
            "traversal_steps": 9,
            "traversal_range": 2.0,
        }
    )

    if arg in (None, "", "default"):
        pass
    elif arg == "tiny":
        c.model = "tiny_conv_vae"
        c.optimizer.learning_rate = 1e-4
        c.batch_size = 8
        c.num_steps = 12
        c.log_every_steps = 4
        c.checkpoint_every_steps = 4
        c.eval.num_samples = 256
        c.eval.num_test_samples = 128
        c.eval.batch_size = 64
    elif arg == "full":  # disentanglement_lib's setting (reference/anchors-core.md)
        c.model = "dlib_conv_vae"
        c.optimizer.learning_rate = 1e-4
        c.num_steps = 300_000
        c.log_every_steps = 500
        c.checkpoint_every_steps = 10_000
    else:
        raise ValueError(f"unknown argument {arg!r}; use one of: default, tiny, full")
    return c
