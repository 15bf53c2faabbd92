"""P39's `smoke` setting end to end: `main.py` trains the first runs (line, grid, rotated) and
one recursive generation per filter through the training core, writes the results file with its
provenance and figure, and the claims read it."""

import json

from experiments.p39_mode_interpolation import claims, config, main


def test_the_smoke_setting_trains_every_run_and_writes_its_results(tmp_path):
    out = tmp_path / "smoke.json"
    results = main.main(
        ["--setting", "smoke", "--workdir", str(tmp_path / "runs"), "--out", str(out)]
    )
    stored = json.loads(out.read_text())
    assert stored["runs"].keys() == results["runs"].keys() == {
        "line", "grid", "rotated", "variance_gen1", "random_gen1",
    }  # fmt: skip
    for run in stored["runs"].values():
        assert run["seeds"] == [0] and run["per_seed"][0]["alive"]
        assert run["config"]["task"] == "experiments.p39_mode_interpolation.task"
        row = run["per_seed"][0]
        assert {"eval/hallucination_rate", "eval/auc", "eval/removal", "train/loss"} <= row.keys()
    assert stored["runs"]["random_gen1"]["config"]["data"]["samples"].endswith(
        "gen0_random_seed0.npy"
    )
    sizes = config.RECURSION["smoke"]
    for how in ("variance", "random"):
        tracked = stored["recursion"][how]
        assert tracked["seeds"] == [0]
        assert len(tracked["per_seed"][0]["hallucination_rate"]) == sizes["generations"] + 1
    assert len(stored["example"]["samples"]) == sizes["pool"]
    assert set(stored["claims"]) == set(claims.CLAIMS)
    assert stored["versions"]["flax"] and "backend" in stored
    assert out.with_suffix(".png").is_file()
    assert claims.check(claims.load(out), "smoke") == [
        f"{name}: {stored['claims'][name]}" for name in claims.CLAIMS if stored["claims"][name]
    ]  # 6 steps learn nothing: the outcomes are whatever they are, none is expected
    assert "| grid |" in claims.table(stored)
