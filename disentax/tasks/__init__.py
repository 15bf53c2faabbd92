"""Tasks other than the ground-truth VAE (`train.build.Run`), named by `config.task`: each module
defines `build(config) -> train.task.Task`, trained by the same core (resume, NaN guard, sharding,
populations, sweeps, reports)."""
