"""P55's `smoke` setting end to end: `main.py` trains the four runs through the training core
(a population per run), writes the results file with its provenance, and the claims read it."""

import json

from experiments.p55_maestro import claims, main


def test_the_smoke_setting_trains_every_run_and_writes_its_results(tmp_path):
    out = tmp_path / "smoke.json"
    results = main.main(
        ["--setting", "smoke", "--workdir", str(tmp_path / "runs"), "--out", str(out)]
    )
    stored = json.loads(out.read_text())
    assert stored["runs"].keys() == results["runs"].keys() == {
        "regression", "autoencoder", "classifier", "classifier_dense",
    }  # fmt: skip
    for run in stored["runs"].values():
        assert run["seeds"] == [0] and run["per_seed"][0]["alive"]
        assert run["config"]["task"] == "experiments.p55_maestro.task"
    regression = stored["runs"]["regression"]["per_seed"][0]
    assert {f"eval/sin_u/k{k:03d}" for k in range(1, 13)} <= regression.keys()
    classifier = stored["runs"]["classifier"]["per_seed"][0]
    assert "train/group_lasso" in classifier and "eval/kept_rank/2" in classifier
    assert set(stored["claims"]) == set(claims.CLAIMS)
    assert stored["versions"]["flax"] and "backend" in stored
    assert out.with_suffix(".png").is_file()
    assert claims.check(claims.load(out), "smoke") == [
        f"{name}: {stored['claims'][name]}" for name in claims.CLAIMS if stored["claims"][name]
    ]  # 4 steps learn nothing: every claim fails, none is expected to at smoke
