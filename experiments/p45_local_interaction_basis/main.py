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

import argparse
import json
import pathlib
import time

from disentax import config as config_lib
from disentax.provenance import provenance
from disentax.train.sweep import run_sweep
from experiments.p45_local_interaction_basis import claims

CONFIG = "experiments.p45_local_interaction_basis.config"
MODULE = "experiments.p45_local_interaction_basis.main"
RESULTS = pathlib.Path(__file__).resolve().with_name("results")


def run_name(config) -> str:
    """lib, modadd, or llc_h<width> (the planted width and the dense one, twice as wide)."""
    if config.problem == "llc":
        return f"llc_h{config.model.widths[0]}"
    return config.problem


def collect(configs, rows) -> dict:
    """{run name: {"config": seed 0's config, "seeds": [...], "per_seed": [{eval/train numbers,
    alive}, ...]}} in the sweep's order."""
    runs = {}
    for config, row in zip(configs, rows, strict=True):
        entry = runs.setdefault(
            run_name(config),
            {"config": json.loads(config_lib.to_json(config)), "seeds": [], "per_seed": []},
        )
        entry["seeds"].append(config.seed)
        entry["per_seed"].append(
            {k: v for k, v in row.items() if k.startswith(("eval/", "train/")) or k == "alive"}
        )
    return runs


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", default="cpu", choices=("cpu", "smoke", "paper"))
    parser.add_argument("--workdir", type=pathlib.Path, help="default: runs/p45_<setting>")
    parser.add_argument("--seeds", type=int, default=0, help="0: the setting's")
    parser.add_argument("--strategy", default="auto", choices=("auto", "vmap", "loop"))
    parser.add_argument("--out", type=pathlib.Path, help="default: results/<setting>.json here")
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args(argv)
    workdir = args.workdir or pathlib.Path("runs") / f"p45_{args.setting}"
    out = args.out or RESULTS / f"{args.setting}.json"
    arg = args.setting + (f",seeds={args.seeds}" if args.seeds else "")
    configs = config_lib.load_sweep(f"{CONFIG}:{arg}")
    start = time.time()
    rows = run_sweep(configs, workdir, strategy=args.strategy, progress=False)
    results = {
        "setting": args.setting,
        "command": f"python -m {MODULE} --setting {args.setting}",
        "wall_s": round(time.time() - start, 1),
        "runs": collect(configs, rows),
        **provenance(),
    }
    results["claims"] = claims.outcomes(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    if not args.no_figure:
        from experiments.p45_local_interaction_basis import figures

        figures.draw(results, out.with_suffix(".png"))
    print(claims.table(results))
    for name, failure in results["claims"].items():
        print(f"{name}: {'holds' if failure is None else failure}")
    print(f"wrote {out} ({results['wall_s']} s)")
    return results


if __name__ == "__main__":
    main()
