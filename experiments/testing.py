"""Test helpers the paper experiments share."""

import pytest


def claim_params(claims, expected_failures: dict[str, str]) -> list:
    """One `pytest.param` per claim name in `claims`; those in `expected_failures` ({name: the
    reason, with the measured numbers}) marked as strict expected failures."""
    return [
        pytest.param(
            name,
            marks=pytest.mark.xfail(strict=True, reason=expected_failures[name])
            if name in expected_failures
            else (),
        )
        for name in claims
    ]
