"""Trains P45/P27's runs of one setting through the training core and writes
`results/<setting>.json` and its figure:
`python -m experiments.p45_local_interaction_basis.main --setting cpu`.

The runs (`config.get_sweep`): the LIB digits MLP, the LLC network of width h (scored with its
planted degeneracy), the dense one of width 2h, the modular-addition MLP and the two-task
MLP, each over the setting's seeds, trained as
populations by `disentax.train.sweep.run_sweep` in `--workdir` (resumable). The results file
holds the config of each run (seed 0's), the seeds, per seed every `eval/` number and the final
train metrics, the claims' outcomes (`claims.py`), package versions, the commit and the wall
time.
"""

from experiments import results


def run_name(config) -> str:
    """lib, modadd, or llc_h<width> (the planted width and the dense one, twice as wide)."""
    if config.problem == "llc":
        return f"llc_h{config.model.widths[0]}"
    return config.problem


def main(argv=None) -> dict:
    return results.main(__package__, __doc__, run_name, argv)


if __name__ == "__main__":
    main()
