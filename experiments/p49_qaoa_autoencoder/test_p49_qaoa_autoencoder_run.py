"""P49's `smoke` setting end to end: `main.py` trains the smoke run (the QAOA-QCAE at n = 4,
p = 1) through the training core, writes the results file with its provenance and figure, and the
claims read it."""

import json

from experiments.p49_qaoa_autoencoder import claims, main


def test_the_smoke_setting_trains_every_run_and_writes_its_results(tmp_path):
    out = tmp_path / "smoke.json"
    results = main.main(
        ["--setting", "smoke", "--workdir", str(tmp_path / "runs"), "--out", str(out)]
    )
    stored = json.loads(out.read_text())
    assert stored["runs"].keys() == results["runs"].keys() == {"qaoa_p1_n4_s0.4"}
    for run in stored["runs"].values():
        assert run["seeds"] == [0] and run["per_seed"][0]["alive"]
        assert run["config"]["task"] == "experiments.p49_qaoa_autoencoder.task"
        row = run["per_seed"][0]
        assert {"eval/test_ssim", "eval/test_psnr", "eval/input_ssim", "train/mse"} <= row.keys()
    assert row["eval/num_params"] == 3061 + 2  # the CAE's at n = 4 and the circuit's γ_1, β_1
    assert set(stored["claims"]) == set(claims.CLAIMS)
    assert stored["versions"]["flax"] and "backend" in stored
    assert out.with_suffix(".png").is_file()
    assert claims.check(claims.load(out), "smoke") == [
        f"{name}: {stored['claims'][name]}" for name in claims.CLAIMS if stored["claims"][name]
    ]  # 4 steps learn little: the outcomes are whatever they are, none is expected
    assert stored["claims"]["qcae_above_cae"] == "no classical run"
    assert "| qaoa | 4 | 0.4 | 1 | 3063 | " in claims.table(stored)
