"""Trains P55's runs of one setting through the training core and writes `results/<setting>.json`
and its figure: `python -m experiments.p55_maestro.main --setting cpu`.

The runs (`config.get_sweep`): regression, autoencoder, Maestro classifier and dense classifier,
each over the setting's seeds, trained as populations by `disentax.train.sweep.run_sweep` in
`--workdir` (resumable). The results file holds the config of each problem (seed 0's), the
seeds, per seed every `eval/` number and the final train metrics, the claims' outcomes
(`claims.py`), package versions, the commit and the wall time.
"""

from experiments import results


def run_name(config) -> str:
    """regression, autoencoder, classifier or classifier_dense."""
    return config.problem + ("" if config.model.factorized else "_dense")


def main(argv=None) -> dict:
    return results.main(__package__, __doc__, run_name, argv)


if __name__ == "__main__":
    main()
