"""What every paper's `claims.py` derives from its `CLAIMS` ({name: results -> None when the
claim holds, else why not}) and `EXPECTED_FAILURES` ({setting: {name: the measured reason}}),
and its command line."""

import argparse
import pathlib
from collections.abc import Callable
from types import ModuleType

from disentax.errors import UserError


def outcomes(claims: dict[str, Callable], results: dict) -> dict[str, str | None]:
    return {name: claim(results) for name, claim in claims.items()}


def expected_failures(table: dict[str, dict[str, str]], setting: str) -> dict[str, str]:
    if setting not in table:
        raise UserError(f"unknown setting {setting!r}; known: {', '.join(sorted(table))}")
    return table[setting]


def check(
    claims: dict[str, Callable], table: dict[str, dict[str, str]], results: dict, setting: str
) -> list[str]:
    """The claims whose outcome differs from `table[setting]`."""
    expected = expected_failures(table, setting)
    differences = []
    for name, failure in outcomes(claims, results).items():
        if failure is None and name in expected:
            differences.append(f"{name}: holds, expected to fail")
        elif failure is not None and name not in expected:
            differences.append(f"{name}: {failure}")
    return differences


def main(
    claims: ModuleType, argv=None, tables: dict[str, tuple[str, Callable]] | None = None
) -> int:
    """`python -m experiments.<paper>.claims RESULTS [--setting S]`: prints the module's `table`
    of the results file (`load`), each claim's outcome and how they differ from the expected
    ones (`check`; setting: the file's own by default); exits 1 when any differs. `tables`
    ({flag: (help, results -> str)}) adds optional tables."""
    parser = argparse.ArgumentParser(description=claims.__doc__.splitlines()[0])
    parser.add_argument("results", type=pathlib.Path)
    parser.add_argument("--setting", help="default: the file's own")
    for flag, (text, _) in (tables or {}).items():
        parser.add_argument(flag, action="store_true", help=text)
    args = parser.parse_args(argv)
    results = claims.load(args.results)
    setting = args.setting or results["setting"]
    print(claims.table(results))
    for flag, (_, extra) in (tables or {}).items():
        if getattr(args, flag.lstrip("-").replace("-", "_")):
            print(extra(results))
    for name, failure in claims.outcomes(results).items():
        print(f"{name}: {'holds' if failure is None else failure}")
    differences = claims.check(results, setting)
    for line in differences:
        print(f"differs: {line}")
    print(f"setting {setting!r}: {len(differences)} outcome(s) differ from expected")
    return 1 if differences else 0
