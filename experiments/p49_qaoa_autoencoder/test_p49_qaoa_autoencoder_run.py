"""P49's `smoke` setting end to end: `main.py` trains the two smoke runs (the CAE and the
QAOA-QCAE at n = 4, p = 1) through the training core, writes the results file with its
provenance and figure, and the claims read it."""

import json

from experiments.p49_qaoa_autoencoder import claims, main


def test_the_smoke_setting_trains_every_run_and_writes_its_results(tmp_path):
    out = tmp_path / "smoke.json"
    results = main.main(
        ["--setting", "smoke", "--workdir", str(tmp_path / "runs"), "--out", str(out)]
    )
    stored = json.loads(out.read_text())
    assert stored["runs"].keys() == results["runs"].keys() == {
        "classical_n4_s0.4", "qaoa_p1_n4_s0.4",
    }  # fmt: skip
    for run in stored["runs"].values():
        assert run["seeds"] == [0] and run["per_seed"][0]["alive"]
        assert run["config"]["task"] == "experiments.p49_qaoa_autoencoder.task"
        row = run["per_seed"][0]
        assert {"eval/test_ssim", "eval/test_psnr", "eval/input_ssim", "train/mse"} <= row.keys()
    counts = [run["per_seed"][0]["eval/num_params"] for run in stored["runs"].values()]
    assert counts[1] - counts[0] == 2  # the circuit's γ_1, β_1
    assert set(stored["claims"]) == set(claims.CLAIMS)
    assert stored["versions"]["flax"] and "backend" in stored
    assert out.with_suffix(".png").is_file()
    assert claims.check(claims.load(out), "smoke") == [
        f"{name}: {stored['claims'][name]}" for name in claims.CLAIMS if stored["claims"][name]
    ]  # 4 steps learn little: the outcomes are whatever they are, none is expected
    assert stored["claims"]["qcae_above_cae"] == "no qaoa_p2 run at n4_s0.4"
    assert "| classical | 4 | 0.4 | – | 3061 |" in claims.table(stored)
