"""P45/P27's `smoke` setting end to end: `main.py` trains the three runs through the training
core, scores them (LIB/PCA/neuron bases, graphs, λ̂ with planted degeneracy), writes the results
file with its provenance and figure, and the claims read it."""

import json

import pytest

from experiments.p45_local_interaction_basis import claims, main


def test_the_smoke_setting_trains_every_run_and_writes_its_results(tmp_path):
    out = tmp_path / "smoke.json"
    results = main.main(
        ["--setting", "smoke", "--workdir", str(tmp_path / "runs"), "--out", str(out)]
    )
    stored = json.loads(out.read_text())
    assert stored["runs"].keys() == results["runs"].keys() == {
        "lib", "llc_h4", "llc_h8", "modadd", "twotask",
    }  # fmt: skip
    for run in stored["runs"].values():
        assert run["seeds"] == [0] and run["per_seed"][0]["alive"]
        assert run["config"]["task"] == "experiments.p45_local_interaction_basis.task"
    lib_row = stored["runs"]["lib"]["per_seed"][0]
    for layer in range(3):
        for name in ("lib", "pca", "pca_equal", "neuron"):
            assert 0.0 <= lib_row[f"eval/gini_{name}/l{layer}"] <= 1.0
        assert 1 <= lib_row[f"eval/k_star_lib/l{layer}"] <= lib_row[f"eval/size_lib/l{layer}"]
        assert lib_row[f"eval/rank_deficit_gram/l{layer}"] >= 0
    assert lib_row["eval/rank_deficit_gram/l0"] >= 3  # the digits' always-blank pixels
    modadd = stored["runs"]["modadd"]["per_seed"][0]
    assert 0.0 <= modadd["eval/fourier_conc_lib/l1"] <= 1.0
    assert modadd["eval/width/l0"] == 63  # [onehot(a), onehot(b), 1], p = 31
    twotask = stored["runs"]["twotask"]["per_seed"][0]
    assert 0.5 <= twotask["eval/modularity_lib"] <= 1.0 and twotask["eval/width/l0"] == 129
    planted = stored["runs"]["llc_h4"]["per_seed"][0]
    assert {"eval/llc/trained", "eval/llc/duplicated", "eval/llc/dead"} <= planted.keys()
    # the planted paddings compute the trained network's function
    for kind in ("duplicated", "dead"):
        assert planted[f"eval/train_loss/{kind}"] == pytest.approx(
            planted["eval/train_loss/trained"], rel=1e-5
        )
    assert "eval/llc/duplicated" not in stored["runs"]["llc_h8"]["per_seed"][0]
    assert set(stored["claims"]) == set(claims.CLAIMS)
    assert stored["versions"]["jax"] and "backend" in stored and "commit" in stored
    assert out.with_suffix(".png").is_file()
    assert claims.check(claims.load(out), "smoke") == [
        f"{name}: {stored['claims'][name]}" for name in claims.CLAIMS if stored["claims"][name]
    ]  # 4 steps: no claim is expected to hold or fail
