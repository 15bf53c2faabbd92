"""Trains P57's runs of one setting through the training core and writes `results/<setting>.json`
and its figure: `python -m experiments.p57_quantum_adversarial.main --setting cpu`.

The runs (`config.get_sweep`): the 10-qubit classifier on each digits pair and the 8-qubit one
on the Ising ground states, each trained plainly and adversarially, over the setting's seeds,
trained as populations by `disentax.train.sweep.run_sweep` in `--workdir` (resumable). The
results file holds the config of each run (seed 0's), the seeds, per seed every `eval/` number
(clean accuracies, accuracy under each attack and ε, the noisy-hardware accuracy) and the final
train metrics, the claims' outcomes (`claims.py`), package versions, the commit and the wall time.
"""

from experiments import results


def run_name(config) -> str:
    """digits_<A>v<B> or ising, with _adv when adversarially trained (e.g. digits_1v9_adv)."""
    d = config.data
    name = f"digits_{d.pair[0]}v{d.pair[1]}" if d.kind == "digits" else "ising"
    return name + ("_adv" if config.adversarial.epsilon > 0 else "")


def main(argv=None) -> dict:
    return results.main(__package__, __doc__, run_name, argv)


if __name__ == "__main__":
    main()
