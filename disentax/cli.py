"""The command line (train, sweep, evaluate, report): user mistakes become one-line errors."""

import argparse
import logging
import os
import pathlib
import sys

from disentax import config as config_lib
from disentax import interrupts
from disentax.data.commands import add_data_commands, run_data_command
from disentax.errors import UserError

EPILOG = """examples:
  disentax train                                   # short beta-VAE on dsprites_procedural, 3-4 min
  disentax train --config beta_vae:tiny --workdir /tmp/tiny
  disentax train --config experiments/x/config.py:small --config.objective.beta=8 \\
                 --config.num_steps=1000
  disentax evaluate --workdir runs/beta_vae
  disentax report --workdir runs/beta_vae          # report.md and a self-contained report.html
  disentax train --help-config                     # list every field of the config and its value
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="disentax",
        description="Disentangled representation learning in JAX.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser(
        "train",
        help="train a config (resumes from the workdir's checkpoints)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    t.add_argument(
        "--config",
        default=config_lib.DEFAULT_CONFIG,
        metavar="PATH[:ARG]",
        help="config file, or a built-in config name ("
        f"{', '.join(config_lib.builtin_config_names())}), and its argument; "
        "default: %(default)s",
    )
    t.add_argument(
        "--workdir",
        type=pathlib.Path,
        help="run directory (checkpoints, config.json, events, images, metrics.json); "
        "default: runs/<config name>",
    )
    t.add_argument(
        "--force",
        action="store_true",
        help="if the workdir holds a run of another config, archive it and start anew",
    )
    t.add_argument(
        "--distributed",
        action="store_true",
        help="multi-host: call jax.distributed.initialize() first (cluster env vars)",
    )
    t.add_argument("--help-config", action="store_true", help="print the config's fields and exit")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    w = sub.add_parser(
        "sweep",
        help="train and evaluate many members (seeds x hyperparameters) as populations",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""examples:
  disentax sweep --config beta_vae:tiny --sweep "seed=0:4 beta=1,4" --workdir /tmp/sweep
  disentax sweep --config experiments/dlib_unsupervised/config.py:smoke   # its get_sweep()
""",
    )
    w.add_argument(
        "--config",
        default=config_lib.DEFAULT_CONFIG,
        metavar="PATH[:ARG]",
        help="config file or built-in name; without --sweep its get_sweep(ARG) lists the members",
    )
    w.add_argument(
        "--sweep",
        metavar="SPEC",
        help='members as a product, e.g. "seed=0:8 beta=1,2,4,8" (FIELD=a:b or FIELD=v1,v2)',
    )
    w.add_argument("--workdir", type=pathlib.Path, help="default: runs/sweep-<config name>")
    w.add_argument(
        "--strategy",
        choices=("auto", "vmap", "loop"),
        default="auto",
        help="one vmapped step for all members, or a loop of one compiled step; "
        "auto: loop on CPU, vmap on accelerators",
    )
    w.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    w.add_argument(
        "--distributed",
        action="store_true",
        help="multi-host: call jax.distributed.initialize() first; the members spread over "
        "the hosts' devices on a ('pop', 'data') mesh",
    )
    e = sub.add_parser("evaluate", help="re-evaluate the latest checkpoint of a run")
    e.add_argument("--workdir", type=pathlib.Path, required=True)
    e.add_argument(
        "--metrics",
        metavar="NAMES",
        help="comma-separated metrics to compute, e.g. mig,dci (default: the run's "
        "eval.metrics; an unknown name lists the known ones)",
    )
    e.add_argument("--distributed", action="store_true")
    r = sub.add_parser(
        "report", help="write report.md and a self-contained report.html of a run or sweep"
    )
    r.add_argument("--workdir", type=pathlib.Path, required=True)
    add_data_commands(sub)
    return p


def split_overrides(extra: list[str]) -> list[str]:
    """`--config.a.b=1`, `--config.a.b 1` -> ["a.b=1", ...]; anything else is an error."""
    overrides, i = [], 0
    while i < len(extra):
        arg = extra[i]
        if not arg.startswith("--config."):
            raise UserError(
                f"unrecognised argument {arg!r}; overrides look like --config.FIELD=VALUE"
            )
        field = arg[len("--config.") :]
        if "=" not in field:
            if i + 1 >= len(extra):
                raise UserError(f"override {arg!r} has no value; use {arg}=VALUE")
            field, i = f"{field}={extra[i + 1]}", i + 1
        overrides.append(field)
        i += 1
    return overrides


def run(argv: list[str]) -> int:
    p = parser()
    args, extra = p.parse_known_args(argv)
    if args.command in ("evaluate", "data", "report") and extra:
        raise UserError(f"unrecognised arguments for {args.command}: {' '.join(extra)}")
    if args.command == "data":
        return run_data_command(args)
    if args.command == "report":
        print_report(args.workdir)
        return 0
    if getattr(args, "distributed", False):
        from disentax.train import parallel

        parallel.initialize_distributed()
    if args.command == "evaluate":
        from disentax.train import evaluate_workdir

        print_metrics(evaluate_workdir(args.workdir, args.metrics))
        return 0
    name = args.config.replace(".py", "").replace(":", "-").replace(os.sep, "_").strip("_.")
    if args.command == "sweep":
        return run_sweep_command(args, split_overrides(extra), name)
    config = config_lib.load_config(args.config)
    config_lib.apply_overrides(config, split_overrides(extra))
    if args.help_config:
        print(config_lib.to_json(config))
        return 0
    from disentax.train import train

    workdir = args.workdir or pathlib.Path("runs") / name
    print_metrics(train(config, workdir, force=args.force, progress=not args.no_progress))
    print(f"run directory: {workdir}")
    print_report(workdir)
    return 0


def run_sweep_command(args, overrides: list[str], name: str) -> int:
    """`disentax sweep`: members from `--sweep` (a product over the config) or `get_sweep()`,
    with the `--config.X=V` overrides applied to each."""
    if args.sweep:
        config = config_lib.load_config(args.config)
        config_lib.apply_overrides(config, overrides)
        configs = config_lib.expand_sweep(config, args.sweep)
    else:
        configs = config_lib.load_sweep(args.config)
        for config in configs:
            config_lib.apply_overrides(config, overrides)
    from disentax.train.sweep import run_sweep

    workdir = args.workdir or pathlib.Path("runs") / f"sweep-{name}"
    rows = run_sweep(configs, workdir, strategy=args.strategy, progress=not args.no_progress)
    print(f"{len(rows)} members; results: {workdir / 'results.csv'}")
    print_report(workdir)
    return 0


def print_report(workdir: pathlib.Path) -> None:
    """Writes the report of the run or sweep in `workdir` and prints its paths (one host)."""
    import jax

    from disentax.viz.report import write_report

    if jax.process_index() != 0:
        return
    md_path, html_path = write_report(workdir)
    print(f"report: {html_path} (markdown: {md_path})")


def print_metrics(results: dict) -> None:
    width = max(map(len, results))
    for key, value in sorted(results.items()):
        print(
            f"{key:<{width}}  {value:.6g}"
            if isinstance(value, float)
            else f"{key:<{width}}  {value}"
        )


def main(argv: list[str] | None = None) -> int:
    """Runs the command; exit status 2 for a user mistake (one line on stderr), 130 after
    SIGINT and 143 after SIGTERM (never inside a checkpoint write; the latest one is kept)."""
    logging.basicConfig(level=logging.WARNING, format="disentax: warning: %(message)s")
    try:
        with interrupts.handled():
            return run(sys.argv[1:] if argv is None else argv)
    except UserError as e:
        print(f"disentax: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        terminated = isinstance(e, interrupts.Terminated)
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        print(f"disentax: {what}; the latest checkpoint is kept, rerun to resume", file=sys.stderr)
        return 143 if terminated else 130


if __name__ == "__main__":
    sys.exit(main())
