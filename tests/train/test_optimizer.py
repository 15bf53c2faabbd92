"""make_optimizer: regex masks, the QLAE rule (clip + AdamW / Adam) by hand, old configs kept."""

import jax
import ml_collections
import numpy as np
import optax
import pytest

from disentax import config as config_lib
from disentax.errors import UserError
from disentax.train.optimizer import decay_mask, make_optimizer

PARAMS = {
    "encoder": {"conv0": {"kernel": np.array([0.5, -1.0])}, "dense0": {"bias": np.array([0.2])}},
    "latent": {"codebook": np.array([-0.5, 0.5])},
    "norm0": {"scale": np.array([1.0]), "bias": np.array([0.0])},
}
REGULARIZED = {"encoder/conv0/kernel", "norm0/scale"}


def qlae_config(**overrides):
    o = {
        "learning_rate": 1e-3,
        "b1": 0.9,
        "b2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.1,
        "decay_pattern": ".",
        "decay_exclude": ("(^|/)bias$", "(^|/)codebook$"),
        "clip": 1.0,
    }
    o.update(overrides)
    return ml_collections.ConfigDict({"optimizer": o})


def paths_where(mask_tree):
    flat = jax.tree_util.tree_leaves_with_path(mask_tree)
    return {"/".join(k.key for k in path) for path, leaf in flat if leaf}


def test_mask_selects_all_weights_but_biases_and_codebooks():
    mask = decay_mask(".", ("(^|/)bias$", "(^|/)codebook$"))(PARAMS)
    assert paths_where(mask) == REGULARIZED
    assert paths_where(decay_mask("kernel")(PARAMS)) == {"encoder/conv0/kernel"}


def adam_by_hand(grads, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Updates of Adam over a sequence of gradients of one leaf (bias-corrected moments)."""
    m = v = 0.0
    updates = []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        updates.append(-lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps))
    return updates


def test_two_updates_equal_hand_computed_clipped_adamw_and_plain_adam():
    tx = make_optimizer(qlae_config())
    grads = [jax.tree.map(lambda p, s=s: 3.0 * np.ones_like(p) * s, PARAMS) for s in (1.0, -0.25)]
    grads[0]["encoder"]["conv0"]["kernel"] = np.array([3.0, 0.4])
    params, state = PARAMS, tx.init(PARAMS)
    for g in grads:
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)

    def leaf(tree, path):
        for k in path.split("/"):
            tree = tree[k]
        return np.asarray(tree, np.float64)

    for path in ("encoder/conv0/kernel", "norm0/scale", "encoder/dense0/bias", "latent/codebook"):
        p = leaf(PARAMS, path)
        gs = [leaf(g, path) for g in grads]
        if path in REGULARIZED:  # clip(1) element-wise, Adam, decoupled decay 0.1 on θ_t
            gs = [np.clip(g, -1.0, 1.0) for g in gs]
            u1, u2 = adam_by_hand(gs)
            p1 = p + u1 - 1e-3 * 0.1 * p
            want = p1 + u2 - 1e-3 * 0.1 * p1
        else:  # plain Adam: no clip, no decay
            u1, u2 = adam_by_hand(gs)
            want = p + u1 + u2
        np.testing.assert_allclose(leaf(params, path), want, rtol=1e-6, err_msg=path)


def test_existing_configs_build_the_same_optimizer():
    config = config_lib.load_config("beta_vae:full")  # disentanglement_lib's Adam(1e-4)
    grads = jax.tree.map(lambda p: p * 0 + 0.3, PARAMS)
    for weight_decay, reference in (
        (0.0, optax.adam(1e-4, 0.9, 0.999, 1e-8)),
        (0.5, optax.adamw(1e-4, 0.9, 0.999, 1e-8, weight_decay=0.5, mask=decay_mask("kernel"))),
    ):
        config.optimizer.weight_decay = weight_decay
        tx = make_optimizer(config)
        state, ref_state = tx.init(PARAMS), reference.init(PARAMS)
        assert jax.tree.structure(state) == jax.tree.structure(ref_state)
        got, _ = tx.update(grads, state, PARAMS)
        want, _ = reference.update(grads, ref_state, PARAMS)
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_regex_that_matches_nothing_warns_naming_it():
    tx = make_optimizer(qlae_config(decay_exclude=("(^|/)bias$", "embedding")))
    with pytest.warns(UserWarning, match="'embedding' matches no parameter"):
        tx.init(PARAMS)


def test_bad_fields_are_user_errors():
    with pytest.raises(UserError, match="bad regex"):
        make_optimizer(qlae_config(decay_exclude=("(",)))
    with pytest.raises(UserError, match="clip"):
        make_optimizer(qlae_config(clip=-1.0))
