"""`run.py`'s GAN rows (InfoWGAN-GP and QLInfoWGAN-GP configured, trained as populations and
scored on the critic's latent head) and its tables (markdown, DCI scored after the fact)."""

import dataclasses
import json

import numpy as np
import pytest

from disentax import metrics
from disentax.errors import UserError
from experiments.p02_qlae import run


@pytest.fixture(scope="module")
def runner():
    return run


@pytest.mark.parametrize(
    ("model", "weight_decay"),
    # config.py's λ (configs/params: InfoWGAN-GP 1e-4, QLInfoWGAN-GP 1e-3), times the factor 3.
    [("info_wgan", 3e-4), ("ql_info_wgan", 3e-3), ("ql_info_wgan_no_wd", 0.0)],
)
def test_a_gan_keeps_its_learning_rate_and_scales_both_players_weight_decay(
    runner, model, weight_decay
):
    setting = dataclasses.replace(
        runner.SETTINGS["gpu_gans"], num_steps=123, batch_size=16, weight_decay_scale=3.0
    )
    c = runner.member_config(model, 2, setting)
    assert (c.num_steps, c.batch_size, c.seed) == (123, 16, 2)
    assert c.model == model.removesuffix("_no_wd") + setting.variant
    for group in (c.optimizer, c.critic_optimizer, c.generator_optimizer):
        assert group.learning_rate == 2e-4  # the paper's, not the setting's
        np.testing.assert_allclose(group.weight_decay, weight_decay, rtol=1e-12)


def test_a_gan_without_a_factor_keeps_the_configs_weight_decay(runner):
    setting = dataclasses.replace(
        runner.SETTINGS["gpu_gans"], weight_decay_scale=None, learning_rate=1e-3
    )
    c = runner.member_config("ql_info_wgan", 0, setting)
    assert c.critic_optimizer.weight_decay == c.generator_optimizer.weight_decay == 1e-3
    assert c.critic_optimizer.learning_rate == c.generator_optimizer.learning_rate == 2e-4


def test_the_gan_setting_is_the_paper_s_three_rows(runner):
    setting = runner.SETTINGS["gpu_gans"]
    assert set(setting.models) == {"info_wgan", "ql_info_wgan", "ql_info_wgan_no_wd"}
    assert len(setting.seeds) == 3 and setting.dataset == "shapes3d_procedural_16px"
    # The paper's lr·λ·T (configs/train_gan.yaml: 200,000 critic updates at 2e-4, 5 per
    # generator update): QLInfoWGAN-GP (λ 1e-3) critic 0.04, generator 0.008.
    c = runner.member_config("ql_info_wgan", 0, setting)
    for group, updates, paper in ((c.critic_optimizer, 5, 0.04), (c.generator_optimizer, 1, 0.008)):
        time = group.learning_rate * group.weight_decay * updates * c.num_steps
        np.testing.assert_allclose(time, paper, rtol=1e-9)
    for name in (
        "smoke",
        "cpu",
        "long",
        "gpu",
        "paper",
    ):  # the autoencoder tables stay as they were
        assert not {m.removesuffix("_no_wd") for m in runner.SETTINGS[name].models} & set(
            runner.GANS
        )


def test_an_unknown_model_is_a_one_line_error_listing_the_known_ones(runner):
    setting = dataclasses.replace(runner.SETTINGS["gpu_gans"], models=("info_gan",))
    with pytest.raises(UserError) as error:
        runner.run(setting)
    message = str(error.value)
    assert "\n" not in message and "'info_gan'" in message
    assert all(name in message for name in ("info_wgan", "ql_info_wgan_no_wd", "qlae"))


@pytest.fixture(scope="module")
def gan_table(runner, tmp_path_factory):
    # One GAN only: each costs about 30 s of XLA compilation on 2 cores (the population's init
    # and its step of 5 critic updates and one generator update); InfoWGAN-GP differs only in
    # its continuous estimators, the autoencoders' path.
    setting = runner.Setting(
        dataset="shapes3d_procedural_16px",
        variant="_tiny",
        models=("ql_info_wgan",),
        seeds=(0, 1),
        num_steps=2,
        batch_size=8,
        learning_rate=2e-4,
        weight_decay_scale=1.0,
        num_eval_samples=64,
        dci=False,
    )
    out = tmp_path_factory.mktemp("gan_table")
    return runner.run(setting, out, log=lambda _: None), out


def test_a_tiny_gan_table_trains_and_scores_the_quantized_latent_head_without_psnr(
    runner, gan_table
):
    result, _ = gan_table
    rows = result["rows"]
    assert [(r["model"], r["seed"]) for r in rows] == [("ql_info_wgan", 0), ("ql_info_wgan", 1)]
    for r in rows:
        assert "psnr" not in r
        # InfoM and InfoC are ratios rescaled to [0, 1]; InfoE = mean (H_marg − H_cond) / H_marg
        # is at most 1 (H_cond ≥ 0) and may be negative (balanced weights, unweighted log loss).
        assert 0.0 <= r["infom"] <= 1.0 and 0.0 <= r["infoc"] <= 1.0
        assert np.isfinite(r["infoe"]) and r["infoe"] <= 1.0
        assert np.asarray(r["nmi"]).shape == (6, 12)  # 6 factors × 12 latents
        assert 1 <= r["active_latents"] <= 12
    assert set(result["table"]["ql_info_wgan"]) == {"infom", "infoe", "infoc"}
    assert all(n == 2 for _, _, n in result["table"]["ql_info_wgan"].values())
    header = runner.markdown(result["table"]).splitlines()[0]
    assert header == "| model | infom | infoe | infoc |"


def test_a_table_of_autoencoders_and_gans_leaves_the_gans_psnr_cells_empty(runner):
    rows = [
        {"model": "qlae", "seed": s, "infom": 0.5 + s / 10, "psnr": 30.0 + s} for s in (0, 1)
    ] + [{"model": "ql_info_wgan", "seed": s, "infom": 0.2 + s / 10} for s in (0, 1)]
    summary = runner.table(rows)
    # mean ± t_{0.975, 1} · s / √2 with s = 0.1 / √2 (psnr: 1 / √2): t_{0.975, 1} = 12.706.
    np.testing.assert_allclose(summary["qlae"]["infom"], (0.55, 12.706 * 0.05, 2), rtol=1e-4)
    np.testing.assert_allclose(summary["qlae"]["psnr"], (30.5, 12.706 * 0.5, 2), rtol=1e-4)
    assert set(summary["ql_info_wgan"]) == {"infom"}
    assert runner.markdown(summary).splitlines() == [
        "| model | infom | psnr |",
        "|---|---|---|",
        "| QLAE | 0.55 ± 0.64 | 30.5 ± 6.4 |",
        "| QLInfoWGAN-GP | 0.25 ± 0.64 |  |",
    ]


def test_dci_is_scored_after_the_fact_from_the_saved_codes(runner, gan_table):
    """`codes_<model>.npz` holds the codes the row was scored on (its InfoM recomputes from
    them); `add_dci` adds DCI fitted on the first half, tested on the second, to every row and
    to the table."""
    result, out = gan_table
    with np.load(out / "codes_ql_info_wgan.npz") as saved:
        codes, seeds, factors = saved["codes"], saved["seeds"], saved["factors"]
    assert codes.shape == (2, 64, 12) and list(seeds) == [0, 1] and factors.shape == (64, 6)
    for m, row in enumerate(result["rows"]):
        info = metrics.infomec(codes[m], factors, discrete_latents=True, num_latent_values=10)
        assert float(info["infom"]) == pytest.approx(row["infom"], abs=1e-6)
    added = runner.add_dci(out, log=lambda _: None)
    assert json.loads((out / "results.json").read_text())["rows"] == added["rows"]
    expected = metrics.dci(codes[1, :32], factors[:32], codes[1, 32:], factors[32:])
    assert added["rows"][1]["dci/disentanglement"] == pytest.approx(
        float(expected["disentanglement"]), abs=1e-6
    )
    assert added["rows"][0]["infom"] == result["rows"][0]["infom"]
    assert all(n == 2 for _, _, n in added["table"]["ql_info_wgan"].values())
    header = (out / "table.md").read_text().splitlines()[0]
    assert header == (
        "| model | infom | infoe | infoc | dci/disentanglement | dci/completeness "
        "| dci/informativeness_test |"
    )


def test_dci_from_a_run_without_codes_is_a_one_line_error(runner, tmp_path):
    with pytest.raises(UserError, match="holds no results.json") as error:
        runner.add_dci(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"rows": [{"model": "ae", "seed": 0}]}))
    with pytest.raises(UserError, match="codes_ae.npz is missing") as missing:
        runner.add_dci(tmp_path)
    np.savez(
        tmp_path / "codes_ae.npz", codes=np.zeros((1, 4, 2)), seeds=[1], factors=np.zeros((4, 1))
    )
    with pytest.raises(UserError, match=r"holds seeds \[1\], not the row's seed 0") as other:
        runner.add_dci(tmp_path)
    assert "\n" not in str(error.value) + str(missing.value) + str(other.value)
