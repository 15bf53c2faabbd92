"""P45/P27's claims as plain functions of a results file (`main.py`'s `results/<setting>.json`),
each returning None when it holds or a one-line statement of what failed, with the numbers.

On the digits MLP (run "lib"), node layers l0 (input), l1, l2 (hidden; the output is l3):
- `lib_fewer_directions_than_pca` (P45): at every non-output node layer the fewest kept
  directions k* whose test cross-entropy is within the tolerance (`eval.loss_tolerance`, 0.05
  nats) of the intact network's is smaller for LIB than for PCA (mean over seeds).
- `lib_truncation_keeps_loss` (P27/P45): keeping all LIB directions (those with Gram and Λ
  eigenvalues above 1e-5) costs at most the tolerance at every layer, in every seed.
- `graph_sparser_than_pca`, `graph_sparser_than_pca_equal_size`, `graph_sparser_than_neurons`
  (P45): the Gini coefficient of the interaction graph's edges (squared integrated gradients)
  is higher in the LIB basis than in the PCA basis (all its directions; cut to LIB's sizes) and
  the neuron basis at every section l → l+1 (mean over seeds).
On the modular-addition MLP (run "modadd", p = 31, node layers l0 input and l1 hidden):
- `modadd_generalises`: test accuracy ≥ 0.95 in every seed (the setting's precondition);
- `modadd_fewer_directions_than_pca`, `modadd_graph_sparser_than_pca_equal_size`: as on digits;
- `modadd_fourier_more_concentrated_than_pca` (P45: LIB directions align with Fourier
  features): the mean share of a direction's Fourier power on one frequency
  (`task.frequency_concentration`), over the first 10 directions, is higher for LIB than for
  PCA at l0 and l1 in every seed (the means alone differ by 0.002 at l1).
On the MLP trained on two independent digits tasks side by side (run "twotask"):
- `twotask_modularity_recovered` (P27's modularity step): a two-way spectral split of the whole
  LIB interaction graph puts at least `MIN_MODULE_MATCH` of the input and output nodes on their
  task's side in every seed (`task.modularity_recovery`; 0.5 is chance).
On the one-hidden-layer MLPs (runs "llc_h<h>", "llc_h<2h>"):
- `llc_lower_with_planted_degeneracy` (P27): λ̂ of the width-h network padded to 2h with
  duplicated units, and with dead units, is below λ̂ of the dense width-2h network trained on
  its own (same parameter count): the upper end of the 95 % t-interval of the per-seed
  difference is below 0.

    python -m experiments.p45_local_interaction_basis.claims \
        experiments/p45_local_interaction_basis/results/cpu.json

prints the claim table and each claim's outcome and exits non-zero when an outcome differs from
`EXPECTED_FAILURES[setting]`, as a strict xfail would.
"""

import argparse
import json
import pathlib
import sys

import numpy as np

from disentax.analysis import format_interval, t_interval
from experiments import claim_check

RESULTS = pathlib.Path(__file__).resolve().with_name("results")
COMMITTED = {"cpu": RESULTS / "cpu.json"}
LAYERS = (0, 1, 2)
MODADD_LAYERS = (0, 1)
MIN_ACCURACY = 0.95
MIN_MODULE_MATCH = 0.9

# The claims that do not reproduce, per setting, with the measured numbers (filled from the
# committed results; `test_p45_local_interaction_basis_claims.py` asserts them as strict xfails).
EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    "cpu": {
        "graph_sparser_than_pca": (
            "only at the input layer (3 seeds; Gini of the squared integrated-gradient edges, "
            "LIB vs all PCA directions: l0 0.996 vs 0.982, l1 0.982 vs 0.988, l2 0.959 vs "
            "0.986): PCA's near-zero trailing directions (56 of 65 kept at l2 vs LIB's 10) add "
            "near-zero edges that raise its Gini; NOTES.md 'Sparsity'"
        ),
        "graph_sparser_than_pca_equal_size": (
            "level at l1 (3 seeds; Gini LIB 0.982 vs PCA cut to LIB's sizes 0.982: 0.979/0.981, "
            "0.980/0.981, 0.986/0.984 per seed), sparser at l0 (0.996 vs 0.979) and l2 (0.959 "
            "vs 0.925); NOTES.md 'Sparsity'"
        ),
        "modadd_fourier_more_concentrated_than_pca": (
            "only at the input (3 seeds; share of a direction's Fourier power on one frequency, "
            "first 10 directions, LIB vs PCA: l0 0.335/0.142, 0.301/0.142, 0.403/0.142; l1 "
            "0.292/0.298, 0.276/0.312, 0.314/0.267, level; single neurons 0.77): this MLP uses "
            "all 15 frequencies; NOTES.md 'Modular addition'"
        ),
        "twotask_modularity_recovered": (
            "not recovered (3 seeds: the spectral split of the LIB interaction graph puts 0.513, "
            "0.528, 0.533 of the input and output nodes on their task's side, the neuron graph "
            "0.508 each; chance 0.5) although the LIB output directions are each within one "
            "task; NOTES.md 'Two tasks'"
        ),
    },
    "smoke": {},
}


def load(path) -> dict:
    return json.loads(pathlib.Path(path).read_text())


def values(results: dict, run: str, key: str) -> np.ndarray:
    """Per-seed values of `key` in `run`."""
    return np.array([row[key] for row in results["runs"][run]["per_seed"]], np.float64)


def interval(x) -> tuple[float, float]:
    """(mean, 95 % t half-width) over seeds; half-width inf for one seed (smoke)."""
    x = np.asarray(x, np.float64)
    return t_interval(x) if len(x) > 1 else (float(x.mean()), float("inf"))


def _interval(x) -> str:
    return format_interval(*interval(x))


def lib_fewer_directions_than_pca(results: dict, run: str = "lib", layers=LAYERS) -> str | None:
    bad = []
    for layer in layers:
        lib_k = values(results, run, f"eval/k_star_lib/l{layer}")
        pca_k = values(results, run, f"eval/k_star_pca/l{layer}")
        if (lib_k < 0).any() or (pca_k < 0).any() or not lib_k.mean() < pca_k.mean():
            bad.append(f"l{layer}: LIB {lib_k.tolist()} vs PCA {pca_k.tolist()}")
    return f"k* (LIB) not below k* (PCA) at {'; '.join(bad)}" if bad else None


def lib_truncation_keeps_loss(results: dict) -> str | None:
    tol = results["runs"]["lib"]["config"]["eval"]["loss_tolerance"]
    bad = []
    for layer in LAYERS:
        cost = values(results, "lib", f"eval/truncation_cost_lib/l{layer}")
        if not (np.abs(cost) <= tol).all():
            bad.append(f"l{layer}: {np.round(cost, 4).tolist()}")
    return f"truncated LIB loses more than {tol} nats at {'; '.join(bad)}" if bad else None


def _sparser(results: dict, other: str, run: str = "lib", layers=LAYERS) -> str | None:
    bad = []
    for layer in layers:
        ours = values(results, run, f"eval/gini_lib/l{layer}")
        theirs = values(results, run, f"eval/gini_{other}/l{layer}")
        if not ours.mean() > theirs.mean():
            bad.append(f"l{layer}: {ours.mean():.3f} vs {theirs.mean():.3f}")
    return f"Gini (LIB) not above Gini ({other}) at {'; '.join(bad)}" if bad else None


def graph_sparser_than_pca(results: dict) -> str | None:
    return _sparser(results, "pca")


def graph_sparser_than_pca_equal_size(results: dict) -> str | None:
    return _sparser(results, "pca_equal")


def graph_sparser_than_neurons(results: dict) -> str | None:
    return _sparser(results, "neuron")


def modadd_generalises(results: dict) -> str | None:
    accuracy = values(results, "modadd", "eval/test_accuracy")
    if (accuracy >= MIN_ACCURACY).all():
        return None
    return f"test accuracy below {MIN_ACCURACY}: {np.round(accuracy, 3).tolist()}"


def modadd_fewer_directions_than_pca(results: dict) -> str | None:
    return lib_fewer_directions_than_pca(results, "modadd", MODADD_LAYERS)


def modadd_graph_sparser_than_pca_equal_size(results: dict) -> str | None:
    return _sparser(results, "pca_equal", "modadd", MODADD_LAYERS)


def modadd_fourier_more_concentrated_than_pca(results: dict) -> str | None:
    bad = []
    for layer in MODADD_LAYERS:
        ours = values(results, "modadd", f"eval/fourier_conc_lib/l{layer}")
        theirs = values(results, "modadd", f"eval/fourier_conc_pca/l{layer}")
        if not (ours > theirs).all():
            bad.append(f"l{layer}: {np.round(ours, 3).tolist()} vs {np.round(theirs, 3).tolist()}")
    return (
        f"Fourier concentration (LIB) not above PCA's in every seed at {'; '.join(bad)}"
        if bad
        else None
    )


def twotask_modularity_recovered(results: dict) -> str | None:
    match = values(results, "twotask", "eval/modularity_lib")
    if (match >= MIN_MODULE_MATCH).all():
        return None
    neuron = values(results, "twotask", "eval/modularity_neuron")
    return (
        f"input/output nodes on their task's side (LIB graph) {np.round(match, 3).tolist()} "
        f"< {MIN_MODULE_MATCH} (neuron graph {np.round(neuron, 3).tolist()}; chance 0.5)"
    )


def llc_runs(results: dict) -> tuple[str, str]:
    """(the planted run, the dense run): llc_h<h> and llc_h<2h>."""
    names = sorted((r for r in results["runs"] if r.startswith("llc_h")), key=lambda r: int(r[5:]))
    return names[0], names[-1]


def llc_lower_with_planted_degeneracy(results: dict) -> str | None:
    planted, dense = llc_runs(results)
    reference = values(results, dense, "eval/llc/trained")
    bad = []
    for kind in ("duplicated", "dead"):
        diff = values(results, planted, f"eval/llc/{kind}") - reference
        mean, half = interval(diff)
        if not mean + half < 0:
            bad.append(f"{kind} − dense {format_interval(mean, half)}")
    return f"λ̂ not lower with planted degeneracy: {'; '.join(bad)}" if bad else None


CLAIMS = {
    "lib_fewer_directions_than_pca": lib_fewer_directions_than_pca,
    "lib_truncation_keeps_loss": lib_truncation_keeps_loss,
    "graph_sparser_than_pca": graph_sparser_than_pca,
    "graph_sparser_than_pca_equal_size": graph_sparser_than_pca_equal_size,
    "graph_sparser_than_neurons": graph_sparser_than_neurons,
    "modadd_generalises": modadd_generalises,
    "modadd_fewer_directions_than_pca": modadd_fewer_directions_than_pca,
    "modadd_graph_sparser_than_pca_equal_size": modadd_graph_sparser_than_pca_equal_size,
    "modadd_fourier_more_concentrated_than_pca": modadd_fourier_more_concentrated_than_pca,
    "twotask_modularity_recovered": twotask_modularity_recovered,
    "llc_lower_with_planted_degeneracy": llc_lower_with_planted_degeneracy,
}


def outcomes(results: dict) -> dict[str, str | None]:
    return claim_check.outcomes(CLAIMS, results)


def expected_failures(setting: str) -> dict[str, str]:
    return claim_check.expected_failures(EXPECTED_FAILURES, setting)


def check(results: dict, setting: str) -> list[str]:
    """The claims whose outcome differs from `expected_failures(setting)` (smoke: none is
    expected to hold or fail; only that every claim runs)."""
    if setting == "smoke":
        return [f"{n}: {f}" for n, f in outcomes(results).items() if f]
    expected = expected_failures(setting)
    differ = []
    for name, failure in outcomes(results).items():
        if failure and name not in expected:
            differ.append(f"{name}: {failure}")
        elif not failure and name in expected:
            differ.append(f"{name}: holds, expected to fail")
    return differ


def table(results: dict) -> str:
    """The README's result table: per node layer k* and Gini per basis, rank deficits; λ̂."""
    lines = [
        "| layer | k* LIB | k* PCA | Gini LIB | Gini PCA | Gini PCA (LIB's size) | Gini neurons "
        "| LIB size | G deficit | M deficit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for layer in LAYERS:
        tag = f"l{layer}"
        cells = [
            _interval(values(results, "lib", f"eval/k_star_{b}/{tag}")) for b in ("lib", "pca")
        ]
        cells += [
            _interval(values(results, "lib", f"eval/gini_{b}/{tag}"))
            for b in ("lib", "pca", "pca_equal", "neuron")
        ]
        cells += [
            _interval(values(results, "lib", f"eval/{k}/{tag}"))
            for k in ("size_lib", "rank_deficit_gram", "rank_deficit_m")
        ]
        lines.append(f"| {tag} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| modadd layer | k* LIB | k* PCA | Gini LIB | Gini PCA (LIB's size) | Gini neurons "
        "| Fourier conc. LIB | PCA | neurons |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for layer in MODADD_LAYERS:
        tag = f"l{layer}"
        keys = [f"k_star_{b}" for b in ("lib", "pca")]
        keys += [f"gini_{b}" for b in ("lib", "pca_equal", "neuron")]
        keys += [f"fourier_conc_{b}" for b in ("lib", "pca", "neuron")]
        cells = [_interval(values(results, "modadd", f"eval/{k}/{tag}")) for k in keys]
        lines.append(f"| {tag} | " + " | ".join(cells) + " |")
    accuracy = _interval(values(results, "modadd", "eval/test_accuracy"))
    lines.append(f"\nmodadd test accuracy {accuracy}")
    planted, dense = llc_runs(results)
    lines += ["", "| network | λ̂ (SGLD) | train loss |", "|---|---|---|"]
    rows = [(planted, "trained", f"{planted} trained")]
    rows += [(planted, k, f"{planted} {k} → width {dense[5:]}") for k in ("duplicated", "dead")]
    rows += [(dense, "trained", f"{dense} trained (dense)")]
    for run, kind, label in rows:
        llc = _interval(values(results, run, f"eval/llc/{kind}"))
        loss = _interval(values(results, run, f"eval/train_loss/{kind}"))
        lines.append(f"| {label} | {llc} | {loss} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=pathlib.Path)
    args = parser.parse_args(argv)
    results = load(args.results)
    print(table(results))
    for name, failure in outcomes(results).items():
        print(f"{name}: {'holds' if failure is None else failure}")
    differ = check(results, results["setting"])
    print(f"setting {results['setting']!r}: {len(differ)} outcome(s) differ from expected")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
