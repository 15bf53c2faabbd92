"""A paper's `main.py`: train one setting's sweep through the core and write
`results/<setting>.json` (per run its config and per seed its numbers, the claims' outcomes,
provenance, wall time) and its figure."""

import argparse
import importlib
import json
import pathlib
import time
from collections.abc import Callable

from disentax import config as config_lib
from disentax.provenance import provenance
from disentax.train.sweep import run_sweep
from experiments.settings import SETTINGS


def member_numbers(row: dict) -> dict:
    """A sweep row's `eval/` numbers, final `train/` metrics and `alive` flag."""
    return {k: v for k, v in row.items() if k.startswith(("eval/", "train/")) or k == "alive"}


def collect(configs, rows, run_name: Callable) -> dict:
    """{run name: {"config": its first seed's config, "seeds": [...], "per_seed":
    [member_numbers, ...]}} in the sweep's order."""
    runs = {}
    for config, row in zip(configs, rows, strict=True):
        entry = runs.setdefault(
            run_name(config),
            {"config": json.loads(config_lib.to_json(config)), "seeds": [], "per_seed": []},
        )
        entry["seeds"].append(config.seed)
        entry["per_seed"].append(member_numbers(row))
    return runs


def parser(package: str, description: str, search_seeds: bool = False) -> argparse.ArgumentParser:
    """`--setting`, `--workdir` (default `runs/<slug's first part>_<setting>`), `--seeds`,
    `--strategy`, `--out` (default the package's `results/<setting>.json`), `--no-figure`."""
    slug = package.rsplit(".", 1)[-1].split("_")[0]
    p = argparse.ArgumentParser(description=description.splitlines()[0])
    p.add_argument("--setting", default="cpu", choices=SETTINGS)
    p.add_argument("--workdir", type=pathlib.Path, help=f"default: runs/{slug}_<setting>")
    seeds = "search seeds" if search_seeds else "seeds"
    p.add_argument("--seeds", type=int, default=0, help=f"{seeds}; 0: the setting's")
    p.add_argument("--strategy", default="auto", choices=("auto", "vmap", "loop"))
    p.add_argument("--out", type=pathlib.Path, help="default: results/<setting>.json there")
    p.add_argument("--no-figure", action="store_true")
    p.set_defaults(package=package, slug=slug)
    return p


def sweep_configs(args: argparse.Namespace) -> list:
    """The setting's member configs (`get_sweep` of the package's `config.py`)."""
    arg = args.setting + (f",seeds={args.seeds}" if args.seeds else "")
    return config_lib.load_sweep(f"{args.package}.config:{arg}")


def workdir(args: argparse.Namespace) -> pathlib.Path:
    return args.workdir or pathlib.Path("runs") / f"{args.slug}_{args.setting}"


def write(results: dict, args: argparse.Namespace, *, summarise: bool = False) -> dict:
    """Adds provenance, the claims' outcomes (and summary) from the package's `claims.py`; writes
    the results file and the figure (`figures.draw`); prints the claims' table and verdicts."""
    claims = importlib.import_module(f"{args.package}.claims")
    results = {
        "setting": args.setting,
        "command": f"python -m {args.package}.main --setting {args.setting}",
        **results,
        **provenance(),
    }
    if summarise:
        results["summary"] = claims.summarise(results)
    results["claims"] = claims.outcomes(results)
    out = (
        args.out
        or pathlib.Path(importlib.import_module(args.package).__file__).with_name("results")
        / f"{args.setting}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    if not args.no_figure:
        importlib.import_module(f"{args.package}.figures").draw(results, out.with_suffix(".png"))
    print(claims.table(results))
    for name, failure in results["claims"].items():
        print(f"{name}: {'holds' if failure is None else failure}")
    print(f"wrote {out} ({results['wall_s']} s)")
    return results


def main(package: str, description: str, run_name: Callable, argv=None) -> dict:
    """Trains the setting's sweep as populations (`run_sweep`, resumable in `--workdir`) and
    writes its results (`write`)."""
    args = parser(package, description).parse_args(argv)
    configs = sweep_configs(args)
    start = time.time()
    rows = run_sweep(configs, workdir(args), strategy=args.strategy, progress=False)
    results = {"wall_s": round(time.time() - start, 1), "runs": collect(configs, rows, run_name)}
    return write(results, args)
