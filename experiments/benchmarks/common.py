"""What every benchmark script shares: its `--out` argument and how it writes its JSON result."""

import argparse
import json
import pathlib

RESULTS = pathlib.Path(__file__).parent / "results"


def add_out_argument(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=RESULTS / f"{name}.json",
        help="where to write the JSON result (default: %(default)s)",
    )


def write_result(out: pathlib.Path, result: dict) -> None:
    """Writes `result` to `out` and prints it as the last line of output."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
