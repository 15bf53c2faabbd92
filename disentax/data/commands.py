"""`disentax data list | build | calibrate`: preparing stored datasets from the command line."""

import argparse
import pathlib
import time

EPILOG = """examples:
  disentax data list                                # known datasets, which ones are prepared
  disentax data build dsprites --manual-dir ~/Downloads
  disentax data build dsprites_procedural --limit 4 # first 4 values per factor: 768 images
  disentax data calibrate --npz ~/Downloads/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz
"""


def add_data_commands(subparsers) -> None:
    """Adds `data` and its subcommands to the CLI's subparsers."""
    data = subparsers.add_parser(
        "data",
        help="list, build (prepare) and calibrate datasets",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    sub = data.add_subparsers(dest="data_command", required=True)
    data_dir = dict(
        type=pathlib.Path,
        help="where prepared datasets live; default: $DISENTAX_DATA_DIR or ~/tensorflow_datasets",
    )
    listing = sub.add_parser("list", help="known datasets: kind, grid, image shape, prepared")
    listing.add_argument("--data-dir", **data_dir)
    build = sub.add_parser("build", help="prepare a dataset from its files (never downloads)")
    build.add_argument("name")
    build.add_argument("--data-dir", **data_dir)
    build.add_argument(
        "--manual-dir",
        type=pathlib.Path,
        help="directory holding the dataset's files; default: <data-dir>/downloads/manual/<name>",
    )
    build.add_argument(
        "--limit", type=int, help="keep the first N values of every factor (a smaller grid)"
    )
    calibrate = sub.add_parser(
        "calibrate", help="IoU of dsprites_procedural against the real dSprites images"
    )
    calibrate.add_argument("--npz", type=pathlib.Path, required=True, help="the real dSprites npz")
    calibrate.add_argument(
        "--num", type=int, default=10_000, help="images compared (0: all); default: %(default)s"
    )


def _grid(sizes, nuisances=()) -> str:
    grid = "x".join(map(str, sizes)) if sizes else "?"
    return " +".join((grid, *nuisances))


def run_data_command(args: argparse.Namespace) -> int:
    """Runs a parsed `disentax data ...` command; user mistakes raise `UserError`."""
    from disentax.data import catalog

    if args.data_command == "list":
        rows = catalog.list_datasets(args.data_dir)
        width = max(len(row["name"]) for row in rows)
        print(f"{'name':<{width}}  {'kind':<10}  {'factor sizes':<22}  {'image':<9}  prepared")
        for row in rows:
            limit = f" (limit {row['limit']})" if row["limit"] else ""
            if row["prepared"]:
                prepared = f"yes{limit}  {row['path']}"
            else:  # a procedural dataset is rendered on the spot; a stored copy is optional
                prepared = "not needed" if row["kind"] == "procedural" else "no"
            grid = _grid(row["factor_sizes"], row["nuisances"])
            shape = _grid(row["observation_shape"])
            print(f"{row['name']:<{width}}  {row['kind']:<10}  {grid:<22}  {shape:<9}  {prepared}")
        print(f"data dir: {catalog.resolve_data_dir(args.data_dir)}")
        return 0
    if args.data_command == "build":
        start = time.perf_counter()
        path = catalog.build(args.name, args.data_dir, args.manual_dir, args.limit)
        print(f"prepared {args.name} in {path} ({time.perf_counter() - start:.1f} s)")
        return 0
    from disentax.data.calibrate import calibrate

    report = calibrate(args.npz, num=args.num or None)
    print(f"images compared   {report['num']}")
    for key in ("mean_iou", "min_iou", "exact_match_rate"):
        print(f"{key:<17} {report[key]:.4f}")
    for shape, value in report["per_shape"].items():
        print(f"iou {shape:<13} {value:.4f}")
    return 0
