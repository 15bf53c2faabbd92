"""The shared digits splits: disjoint, complete, seeded, and one-line errors."""

import numpy as np
import pytest

from disentax.errors import UserError
from experiments import digits


def test_split_partitions_the_digits_by_seed():
    s = digits.split(3, num_test=400, num_val=300)
    assert [len(s[k]) for k in ("x_train", "x_val", "x_test")] == [1097, 300, 400]
    x, y = digits.digits()
    rows = {tuple(r) for r in x}
    seen = np.concatenate([s["x_train"], s["x_val"], s["x_test"]])
    assert len(seen) == len(x) and {tuple(r) for r in seen} == rows
    index = {tuple(r): i for i, r in enumerate(x)}  # the digits' rows are distinct...
    assert len(index) == len(x)
    back = [index[tuple(r)] for r in s["x_test"]]
    np.testing.assert_array_equal(y[back], s["y_test"])  # ...so labels follow their images
    again = digits.split(3, num_test=400, num_val=300)
    np.testing.assert_array_equal(again["x_test"], s["x_test"])
    assert not np.array_equal(digits.split(4, num_test=400)["y_test"], s["y_test"])
    assert "x_val" not in digits.split(3, num_test=400)


def test_digits_split_holds_out_the_ceiling_of_the_fraction():
    x_train, y_train, x_test, y_test = digits.digits_split(0, 0.25)
    assert (len(x_train), len(x_test)) == (1347, 450) and len(y_test) == 450
    assert x_train.dtype == np.float32 and x_train.min() >= 0 and x_train.max() <= 1


@pytest.mark.parametrize("sizes", [{"num_test": 0}, {"num_test": 1000, "num_val": 797}])
def test_impossible_split_is_a_user_error(sizes):
    with pytest.raises(UserError, match="num_test"):
        digits.split(0, **sizes)
