"""P32's `smoke` setting end to end: `main.py` trains the two smoke runs (classical, hybrid with
shots) through the training core, writes the results file with its provenance, and the claims
read it."""

import json

from experiments.p32_quantum_transfer import claims, main


def test_the_smoke_setting_trains_every_run_and_writes_its_results(tmp_path):
    out = tmp_path / "smoke.json"
    results = main.main(
        ["--setting", "smoke", "--workdir", str(tmp_path / "runs"), "--out", str(out)]
    )
    stored = json.loads(out.read_text())
    assert stored["runs"].keys() == results["runs"].keys() == {
        "classical", "quantum_x1_shots1024",
    }  # fmt: skip
    for run in stored["runs"].values():
        assert run["seeds"] == [0] and run["per_seed"][0]["alive"]
        assert run["config"]["task"] == "experiments.p32_quantum_transfer.task"
        row = run["per_seed"][0]
        assert {"eval/test_accuracy", "eval/train_accuracy", "train/cross_entropy"} <= row.keys()
    assert set(stored["claims"]) == set(claims.CLAIMS)
    assert stored["versions"]["flax"] and "backend" in stored
    assert out.with_suffix(".png").is_file()
    assert claims.check(claims.load(out), "smoke") == [
        f"{name}: {stored['claims'][name]}" for name in claims.CLAIMS if stored["claims"][name]
    ]  # 3 head steps learn little: the outcomes are whatever they are, none is expected
    assert stored["claims"]["hybrid_below_classical_exact"] == "no quantum_x1 runs"
    assert "| latent (16) |" in claims.table(stored)
