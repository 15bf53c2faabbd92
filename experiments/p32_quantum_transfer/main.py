"""Trains P32's runs of one setting through the training core and writes `results/<setting>.json`
and its figure: `python -m experiments.p32_quantum_transfer.main --setting cpu`.

The runs (`config.get_sweep`): the classical baseline (MLP on the autoencoder's latent), the
PCA control (MLP on the circuit's 5 inputs) and the hybrid (MLP on the feature map's 32
probabilities) at each angle scale, exact and with shots, each over the setting's seeds,
trained as populations by `disentax.train.sweep.run_sweep` in `--workdir` (resumable). The
results file holds the config of each run (seed 0's), the seeds, per seed every `eval/` number
and the final train metrics, the claims' outcomes (`claims.py`), package versions, the commit
and the wall time.
"""

from experiments import results


def run_name(config) -> str:
    """classical, pca or quantum_x<scale>[_shots<N>] (e.g. quantum_x1_shots1024)."""
    f = config.features
    if f.kind != "quantum":
        return {"latent": "classical", "pca": "pca"}[f.kind]
    return f"quantum_x{f.angle_scale:g}" + (f"_shots{f.shots}" if f.shots else "")


def main(argv=None) -> dict:
    return results.main(__package__, __doc__, run_name, argv)


if __name__ == "__main__":
    main()
