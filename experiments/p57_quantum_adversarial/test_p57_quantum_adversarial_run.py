"""P57's `smoke` setting end to end: `main.py` trains the two smoke runs (the digits classifier
and the quantum-data classifier, both adversarially trained, 4 qubits) through the training
core, scores every attack and the noisy chip, writes the results file with its provenance, and
the claims read it."""

import json

from experiments.p57_quantum_adversarial import claims, main


def test_the_smoke_setting_trains_every_run_and_writes_its_results(tmp_path):
    out = tmp_path / "smoke.json"
    results = main.main(
        ["--setting", "smoke", "--workdir", str(tmp_path / "runs"), "--out", str(out)]
    )
    stored = json.loads(out.read_text())
    assert stored["runs"].keys() == results["runs"].keys() == {"digits_1v9_adv", "ising_adv"}
    for run in stored["runs"].values():
        assert run["seeds"] == [0] and run["per_seed"][0]["alive"]
        assert run["config"]["task"] == "experiments.p57_quantum_adversarial.task"
        row = run["per_seed"][0]
        want = {"eval/test_accuracy", "eval/train_accuracy", "train/adversarial_cross_entropy"}
        want |= {f"eval/{a}_accuracy_eps0.1" for a in claims.ATTACKS}
        assert want <= row.keys()
    digits = stored["runs"]["digits_1v9_adv"]["per_seed"][0]
    assert 0 <= digits["eval/noisy_accuracy"] <= 1  # the density path ran (2 images)
    assert set(stored["claims"]) == set(claims.CLAIMS)
    assert stored["versions"]["flax"] and "backend" in stored
    assert out.with_suffix(".png").is_file()
    assert claims.check(claims.load(out), "smoke") == [
        f"{name}: {stored['claims'][name]}" for name in claims.CLAIMS if stored["claims"][name]
    ]  # 4 steps learn little: the outcomes are whatever they are, none is expected
    assert stored["claims"]["clean_accuracy_high"] == "no runs"
    assert "| ising_adv |" in claims.table(stored)
