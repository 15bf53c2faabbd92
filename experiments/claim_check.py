"""What every paper's `claims.py` derives from its `CLAIMS` ({name: results -> None when the
claim holds, else why not}) and `EXPECTED_FAILURES` ({setting: {name: the measured reason}})."""

from collections.abc import Callable

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
