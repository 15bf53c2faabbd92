"""The registry-wide objective contract (`test_objective_contract.py`) for the QLAE paper's
objectives: the same checks, in a file of their own so that a second test worker runs them
(`--dist loadfile` runs a file on one worker; these are the contract's slowest compiles)."""

import pytest
from test_objective_contract import CONFIGS, QLAE_OBJECTIVES, check_contract


def test_the_qlae_objectives_are_in_the_contract():
    assert set(QLAE_OBJECTIVES) <= set(CONFIGS)


@pytest.mark.parametrize("name", QLAE_OBJECTIVES)
def test_objective_contract(name):
    check_contract(name)
