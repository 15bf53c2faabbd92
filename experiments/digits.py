"""scikit-learn's 8×8 digits (1,797 images, 10 classes, pixels / 16 ∈ [0, 1]): the small real
dataset the paper experiments train on in minutes on a CPU, and its seeded splits."""

import functools

import numpy as np

from disentax.errors import UserError

NUM_EXAMPLES = 1797


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    """(pixels / 16 `[1797, 64]` float32, labels `[1797]` int32); `.reshape(-1, 8, 8, 1)` gives
    the images (row-major, as `load_digits().images`)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # pragma: no cover - a test extra of the project
        raise UserError("the digits need scikit-learn (pip install scikit-learn)") from e
    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int32)


def split(seed: int, *, num_test: int, num_val: int = 0) -> dict[str, np.ndarray]:
    """{"x_train", "y_train", ["x_val", "y_val",] "x_test", "y_test"}: one permutation from
    `seed`; its last `num_test` examples are the test set, the `num_val` before them the
    validation set (only when `num_val` > 0), the rest the training set."""
    if num_test < 1 or num_val < 0 or num_test + num_val >= NUM_EXAMPLES:
        raise UserError(
            f"a digits split needs 1 <= num_test and 0 <= num_val with num_test + num_val < "
            f"{NUM_EXAMPLES}, got num_test={num_test}, num_val={num_val}"
        )
    x, y = digits()
    order = np.random.RandomState(seed).permutation(len(x))
    n_train = len(x) - num_val - num_test
    parts = dict(
        zip(("train", "val", "test"), np.split(order, [n_train, n_train + num_val]), strict=True)
    )
    if not num_val:
        del parts["val"]
    return {f"{v}_{name}": a[rows] for name, rows in parts.items() for v, a in (("x", x), ("y", y))}


def digits_split(seed: int, test_fraction: float):
    """(x_train, y_train, x_test, y_test): `split` holding out ⌈test_fraction·N⌉ examples."""
    s = split(seed, num_test=int(np.ceil(test_fraction * NUM_EXAMPLES)))
    return s["x_train"], s["y_train"], s["x_test"], s["y_test"]
