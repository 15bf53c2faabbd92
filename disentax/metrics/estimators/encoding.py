"""Class labels in and out of the estimators: indices of the distinct training labels, one-hot
rows, the predicted class of a linear model."""

import jax
import jax.numpy as jnp


def encode_labels(y_train, y_test, num_classes: int):
    """Labels → class indices 0..C−1 of the sorted distinct training labels: `[N], [M] -> [N], [M]`.

    `num_classes` (static) is the number of distinct training labels; a test label that the
    training split lacks gets −1, which no classifier predicts.
    """
    classes = jnp.unique(y_train, size=num_classes, fill_value=jnp.max(y_train))

    def index(y):
        i = jnp.clip(jnp.searchsorted(classes, y), 0, num_classes - 1)
        return jnp.where(classes[i] == y, i, -1).astype(jnp.int32)

    return index(y_train), index(y_test)


def one_hot_classes(y, num_classes):
    """1[y_n = c] as float32: `int [N] -> [N, C]` (a label outside 0..C−1 is a row of zeros)."""
    return jax.nn.one_hot(y, num_classes, dtype=jnp.float32)


def linear_predict(params, x_NxL):
    """Class index `[N]` of a linear model `(W [L, C'], b [C'])`: the first c attaining
    max_c (x W + b)_c, or 1[x W + b > 0] for one column."""
    W, b = params
    z = x_NxL @ W + b
    if W.shape[1] == 1:
        return (z[:, 0] > 0).astype(jnp.int32)
    return first_max_index(z)


def first_max_index(z):
    """`jnp.argmax(z, axis=-1)` for non-NaN float z, `[..., C] -> int32 [...]`: the least index
    attaining the max, as a max and a min reduce (XLA:CPU runs argmax's variadic reduce several
    times slower)."""
    num = z.shape[-1]
    index = jnp.arange(num, dtype=jnp.float32)  # exact below 2^24
    at_top = z == jnp.max(z, axis=-1, keepdims=True)
    return jnp.min(jnp.where(at_top, index, num - 1.0), axis=-1).astype(jnp.int32)
