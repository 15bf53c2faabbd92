"""P45/P27's mechanism in closed form: whitening, LIB's invariance to a rotation of the neurons,
exact truncation of zero-eigenvalue directions, the Gram and Jacobian moments of LIB features
(diag Λ and I), the integrated-gradient edges of a linear section, Gini, the planted
degeneracies' function, and the SGLD estimate λ̂ of a quadratic loss against its closed form."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.p45_local_interaction_basis import lib, sgld, task


@functools.cache
def degenerate_net():
    """A 6-8-8-3 ReLU MLP (folded weights) with a dead unit (4) and a duplicated unit (6 = 5)
    in the first hidden layer, and its data: f^0 `[400, 7]`."""
    rng = np.random.RandomState(0)
    ws = [rng.randn(7, 8) / 2, rng.randn(9, 8) / 2, rng.randn(9, 3) / 2]
    ws[0][:, 4], ws[0][-1, 4] = 0.0, -1.0
    ws[0][:, 6] = ws[0][:, 5]
    x = rng.randn(400, 6).astype(np.float32)
    return lib.mlp_sections(ws), np.asarray(lib.with_constant(jnp.asarray(x))), ws


def rotated_section(params, f):
    """[relu(f W), 1] R̃: a hidden layer whose neurons are rotated by R (R̃ = R ⊕ 1)."""
    w, r = params
    return lib.relu_section(w, f) @ r


def test_whitening_gives_the_identity_gram_on_the_kept_directions():
    sections, f0, _ = degenerate_net()
    f1 = lib.node_layers(sections, f0)[1]
    white = lib.whiten(f1)
    assert white.shape[1] == 7  # 9 coordinates, one dead unit, one duplicate
    np.testing.assert_allclose(white.T @ white / len(white), np.eye(7), atol=1e-10)


def test_the_rank_deficits_count_the_planted_dead_and_duplicated_units():
    sections, f0, _ = degenerate_net()
    bases = lib.lib_bases(sections, f0)
    assert [b.gram_rank for b in bases] == [7, 7, 9, 3]  # layer 1: 9 coordinates, rank 7
    # M at the last hidden layer: rank ≤ 3 outputs; the linear section makes it exactly 3
    assert bases[2].m_rank == 3 and bases[-1].size == 3


def test_truncating_zero_eigenvalue_directions_leaves_the_outputs_unchanged():
    sections, f0, _ = degenerate_net()
    fs = lib.node_layers(sections, f0)
    # Gram-zero directions only (Λ untruncated): exact at every layer
    keep_all = lib.lib_bases(sections, f0, lambda_tol=-1.0)
    for layer in range(3):
        out = lib.ablation_outputs(sections, layer, keep_all[layer], fs[layer])[-1]
        np.testing.assert_allclose(out, fs[-1], atol=2e-5)
    # Λ-zero directions too where the rest of the network is linear (node layer 2)
    bases = lib.lib_bases(sections, f0)
    out = lib.ablation_outputs(sections, 2, bases[2], fs[2])[-1]
    np.testing.assert_allclose(out, fs[-1], atol=2e-5)
    # and the basis reconstructs the layer where it keeps every Gram direction
    np.testing.assert_allclose(fs[1] @ keep_all[1].C @ keep_all[1].C_pinv, fs[1], atol=1e-9)


def test_lib_features_have_gram_lambda_and_unit_jacobian_moment():
    """E[f̂ᵀf̂] = Λ (diagonal: features scaled by their importance) and E[ĴᵀĴ] = I for
    Ĵ = ∂(s(f̂ C⁺) C^{l+1}) / ∂f̂, by construction of C = U D^{−1/2} V Λ^{1/2}."""
    sections, f0, _ = degenerate_net()
    fs = lib.node_layers(sections, f0)
    bases = lib.lib_bases(sections, f0)
    for layer in range(3):
        b = bases[layer]
        f_hat = fs[layer].astype(np.float64) @ b.C
        gram = f_hat.T @ f_hat / len(f_hat)
        np.testing.assert_allclose(gram, np.diag(b.lambdas[: b.size]), atol=2e-6 * b.lambdas[0])
        fn, params = sections[layer]
        c_out = bases[layer + 1].C

        def features(v, fn=fn, params=params, b=b, c_out=c_out):
            return fn(params, v @ b.C_pinv) @ c_out

        jac = jax.vmap(jax.jacfwd(features))(jnp.asarray(f_hat, jnp.float32))
        j = np.asarray(jac, np.float64)
        moment = np.einsum("nkd,nke->de", j, j) / len(j)
        np.testing.assert_allclose(moment, np.eye(b.size), atol=2e-3)


def test_a_network_of_rotated_neurons_has_the_same_lib_features_up_to_sign():
    sections, f0, ws = degenerate_net()
    rng = np.random.RandomState(1)
    r = np.eye(9)
    r[:8, :8] = np.linalg.qr(rng.randn(8, 8))[0]
    rotated = [
        (rotated_section, (jnp.asarray(ws[0], jnp.float32), jnp.asarray(r, jnp.float32))),
        (lib.relu_section, jnp.asarray(r.T @ ws[1], jnp.float32)),
        sections[2],
    ]
    fs, fs_rot = lib.node_layers(sections, f0), lib.node_layers(rotated, f0)
    np.testing.assert_allclose(fs_rot[-1], fs[-1], atol=1e-5)  # the same function
    np.testing.assert_allclose(fs_rot[1], fs[1] @ r, atol=1e-5)
    bases, bases_rot = lib.lib_bases(sections, f0), lib.lib_bases(rotated, f0)
    for layer in range(4):
        a = fs[layer].astype(np.float64) @ bases[layer].C
        b = fs_rot[layer].astype(np.float64) @ bases_rot[layer].C
        sign = np.sign(np.sum(a * b, 0))
        np.testing.assert_allclose(b * sign, a, atol=1e-5 * np.abs(a).max())
    # while the neuron basis is not invariant: the neurons of layer 1 are mixed
    assert np.abs(fs_rot[1][:, :8] - fs[1][:, :8]).max() > 0.1


def test_the_output_basis_is_the_gram_eigenbasis():
    sections, f0, _ = degenerate_net()
    out = lib.node_layers(sections, f0)[-1].astype(np.float64)
    basis = lib.lib_bases(sections, f0)[-1]
    features = out @ basis.C
    gram = features.T @ features / len(out)
    np.testing.assert_allclose(gram, np.diag(np.diag(gram)), atol=1e-8)
    assert np.all(np.diff(np.diag(gram)) <= 0)


def test_integrated_gradient_edges_of_a_linear_section():
    """ĝ(f̂) = f̂ A is linear, so the edge i→j is A_ij² E[f̂_i²] for any n_alpha."""
    rng = np.random.RandomState(2)
    w = rng.randn(5, 4)
    f = rng.randn(300, 5)
    basis_in = lib.pca_basis(f)
    basis_out = lib.neuron_basis(f @ w)
    edges = lib.interaction_graph(
        (lib.linear_section, jnp.asarray(w, jnp.float32)), basis_in, basis_out, f, n_alpha=3
    )
    f_hat = f @ basis_in.C
    a = basis_in.C_pinv @ w @ basis_out.C
    np.testing.assert_allclose(edges, a**2 * np.mean(f_hat**2, 0)[:, None], rtol=1e-4)


def test_gini_and_top_mass_closed_forms():
    assert lib.gini(np.ones(10)) == pytest.approx(0.0, abs=1e-12)
    assert lib.gini(np.eye(1, 10)) == pytest.approx(0.9)
    assert lib.gini([1.0, 3.0]) == pytest.approx(0.25)  # (3 − 1) / (2 · 2 · 4) · 2
    assert lib.top_mass(np.arange(1.0, 21.0), 0.05) == pytest.approx(20 / 210)


def test_the_planted_degeneracies_compute_the_same_function():
    rng = np.random.RandomState(3)
    params = {
        "Dense_0": {"kernel": jnp.asarray(rng.randn(64, 5)), "bias": jnp.asarray(rng.randn(5))},
        "Dense_1": {"kernel": jnp.asarray(rng.randn(5, 10)), "bias": jnp.asarray(rng.randn(10))},
    }
    x = jnp.asarray(rng.rand(50, 64), jnp.float32)
    base = task.MLP((5,), 10).apply({"params": params}, x)
    for planted in (task.duplicated(params), task.with_dead_units(params)):
        assert planted["Dense_0"]["bias"].shape == (10,)
        out = task.MLP((10,), 10).apply({"params": planted}, x)
        np.testing.assert_allclose(out, base, rtol=1e-5, atol=1e-5)


def test_sgld_llc_of_a_quadratic_matches_its_closed_form_and_drops_with_zero_curvature():
    """L(w) = ½ Σ h_i w_i²: the SGLD chain w ← w(1 − εa_i/2) + √ε ξ, a_i = nβh_i + γ, is
    Gaussian with stationary variance 1/(a_i(1 − εa_i/4)), so λ = nβ E[L] =
    ½ Σ nβh_i / (a_i(1 − εa_i/4)) (the posterior's ½ Σ nβh_i/a_i as ε → 0); zero-curvature
    (degenerate) directions add nothing, so λ falls from d/2 towards rank(H)/2."""
    n, gamma, eps = 10_000, 1.0, 2e-4
    nbeta = n / np.log(n)

    def estimate(h):
        h = jnp.asarray(h, jnp.float32)
        return sgld.llc(
            lambda w: 0.5 * jnp.sum(h * w["w"] ** 2), {"w": jnp.zeros_like(h)}, n,
            jax.random.PRNGKey(0), steps=4000, chains=4, step_size=eps,
            localization=gamma, burn_in=500,
        )["llc"]  # fmt: skip

    regular = np.full(8, 1.0)
    degenerate = np.array([1.0] * 4 + [0.0] * 4)
    for h in (regular, degenerate):
        a = nbeta * h + gamma
        exact = 0.5 * np.sum(nbeta * h / (a * (1 - eps * a / 4)))
        assert estimate(h) == pytest.approx(exact, rel=0.06)
    assert estimate(degenerate) < 0.6 * estimate(regular)
