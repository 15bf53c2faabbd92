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


def committed_claim_tests(claims, setting: str = "cpu"):
    """(results, test_claim, test_check) for a paper's `claims` module: its committed
    `results/<setting>.json`, and the two tests every claims test file runs on it — each claim
    of `claims.CLAIMS` holds (a strict xfail, with the measured numbers as its reason, for those
    `claims.expected_failures(setting)` names), and `claims.check` finds no outcome that differs
    from the expected ones. A test file binds the tests to its own `test_` names."""
    stored = claims.load(claims.COMMITTED[setting])

    @pytest.mark.parametrize(
        "claim", claim_params(claims.CLAIMS, claims.expected_failures(setting))
    )
    def test_claim(claim):
        assert claims.CLAIMS[claim](stored) is None

    def test_check():
        assert claims.check(stored, setting) == []

    return stored, test_claim, test_check
