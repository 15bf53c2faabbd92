"""Trains P49's runs of one setting through the training core and writes `results/<setting>.json`
and its figure: `python -m experiments.p49_qaoa_autoencoder.main --setting cpu`.

The runs (`config.get_sweep`): the classical CAE and the QCAE with each circuit design (QAOA,
hardware-efficient, unentangled) at each depth, at the main qubit count and noise level, and
the CAE and the QAOA-QCAE at the other qubit counts, each over the setting's seeds, trained as
populations by `disentax.train.sweep.run_sweep` in `--workdir` (resumable). The results file
holds the config of each run (seed 0's), the seeds, per seed every `eval/` number and the final
train metrics, the claims' outcomes (`claims.py`), package versions, the commit and the wall
time.
"""

from experiments import results


def run_name(config) -> str:
    """classical_n<n>_s<σ> or <ansatz>_p<p>_n<n>_s<σ> (e.g. qaoa_p2_n6_s0.4); `_noclip` when the
    noisy pixels are not clipped."""
    m, d = config.model, config.data
    where = f"n{m.latent}_s{d.noise_sigma:g}" + ("" if d.clip else "_noclip")
    if m.bottleneck == "classical":
        return f"classical_{where}"
    return f"{m.ansatz}_p{m.depth}_{where}"


def main(argv=None) -> dict:
    return results.main(__package__, __doc__, run_name, argv)


if __name__ == "__main__":
    main()
