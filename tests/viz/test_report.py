"""Reports of a finished run and of a sweep: every section in report.md and report.html."""

import base64
import json
import re

import jax
import numpy as np
import pytest
from PIL import Image
from tensorboardX import SummaryWriter

from disentax import cli, metrics
from disentax.errors import UserError
from disentax.metrics import suite
from disentax.train import restore_run
from disentax.train.evaluate import evaluate, pictures, representation_kinds
from disentax.train.writer import ScalarWriter
from disentax.viz.events import read_scalars
from disentax.viz.heatmaps import importance_heatmap, nmi_heatmap
from disentax.viz.report import write_report
from disentax.viz.sweep import plot_sweep

RUN_SECTIONS = ("# Run report", "## Config", "## Training curves", "## Losses", "## Metrics")
RUN_SECTIONS += ("## Figures",)
FIGURES = ("reconstructions.png", "samples.png", "traversals.png", "traversals.gif")


def headings(md):
    return [line for line in md.splitlines() if line.startswith("#")]


def test_run_leaves_figures_and_tensorboard_images(finished_run):
    _, workdir, _ = finished_run
    for name in FIGURES:
        assert (workdir / "figures" / name).stat().st_size > 0
    traversal = Image.open(workdir / "figures" / "traversals.gif")
    assert traversal.n_frames == 2 * 9 - 2  # 9 steps there and back
    (events,) = workdir.glob("events.out.tfevents.*")
    raw = events.read_bytes()
    for tag in (b"figures/traversals", b"figures/reconstructions", b"figures/samples"):
        assert tag in raw


def test_evaluation_draws_the_dci_importance_heatmap_to_figures_tensorboard_and_report(
    run_copy, monkeypatch
):
    # DCI stands in with known importance matrices (its GBT costs minutes to compile here): the
    # evaluation fits it once per representation and draws exactly what it returned on the mean
    # codes of the metric samples, without fitting it again for the picture.
    _, workdir = run_copy
    run, state = restore_run(workdir)
    ev, names = run.config.eval, list(run.dataset.factor_names)
    importance = np.arange(run.config.num_latents * len(names), dtype=float).reshape(-1, len(names))
    seen = []
    stand_in = lambda codes, factors, test_codes, test_factors: (
        seen.append((codes.shape, factors.shape, test_codes.shape))
        or {"importance": importance if len(seen) == 1 else importance[::-1]}  # mean, sampled
    )
    monkeypatch.setitem(suite.SUITE._entries, "dci", suite.SuiteMetric(stand_in, suite.SPLIT))
    writer = ScalarWriter(workdir)
    evaluate(run, state, workdir, metric_names="mig,dci", writer=writer)
    writer.close()
    latents = run.config.num_latents
    shapes = (
        (ev.num_samples, latents),
        (ev.num_samples, len(names)),
        (ev.num_test_samples, latents),
    )
    assert seen == [shapes] * len(representation_kinds(run, state.params)) == [shapes] * 2
    expected = importance_heatmap(importance, names)
    assert not np.array_equal(expected, importance_heatmap(importance[::-1], names))
    drawn = np.asarray(
        Image.open(workdir / "figures" / "dci_importance_heatmap.png").convert("RGB")
    )
    np.testing.assert_array_equal(drawn, expected)
    raw = b"".join(p.read_bytes() for p in workdir.glob("events.out.tfevents.*"))
    assert b"figures/dci_importance_heatmap" in raw
    assert "](figures/dci_importance_heatmap.png)" in write_report(workdir)[0].read_text()
    assert not (workdir / "figures" / "nmi_heatmap.png").exists()  # only for infomec


def test_evaluation_without_the_mean_representation_draws_the_sampled_heatmap(
    run_copy, monkeypatch
):
    # With eval.representations = "sampled" the importance heatmap is the sampled codes' DCI.
    _, workdir = run_copy
    run, state = restore_run(workdir)
    run.config.eval.representations = "sampled"
    names = list(run.dataset.factor_names)
    importance = np.arange(run.config.num_latents * len(names), dtype=float).reshape(-1, len(names))
    stand_in = lambda codes, factors, test_codes, test_factors: {"importance": importance}
    monkeypatch.setitem(suite.SUITE._entries, "dci", suite.SuiteMetric(stand_in, suite.SPLIT))
    evaluate(run, state, workdir, metric_names="dci")
    drawn = np.asarray(
        Image.open(workdir / "figures" / "dci_importance_heatmap.png").convert("RGB")
    )
    np.testing.assert_array_equal(drawn, importance_heatmap(importance, names))


def test_pictures_draw_the_nmi_matrix_they_are_handed_without_refitting(run_copy, monkeypatch):
    _, workdir = run_copy
    run, state = restore_run(workdir)
    refit = lambda *args, **kwargs: pytest.fail("pictures refitted InfoMEC")
    monkeypatch.setitem(suite.SUITE._entries, "infomec", suite.SuiteMetric(refit, suite.SAMPLE))
    monkeypatch.setattr(metrics, "infomec", refit)
    names = list(run.dataset.factor_names)
    nmi = np.linspace(0.0, 1.0, len(names) * run.config.num_latents).reshape(len(names), -1)
    outputs = {"infomec": {"infom": 0.5, "nmi": nmi}}
    figures = pictures(run, state.params, jax.random.PRNGKey(0), workdir, outputs)
    np.testing.assert_array_equal(figures["nmi_heatmap"], nmi_heatmap(nmi, names))
    drawn = np.asarray(Image.open(workdir / "figures" / "nmi_heatmap.png").convert("RGB"))
    np.testing.assert_array_equal(drawn, figures["nmi_heatmap"])
    assert "dci_importance_heatmap" not in figures


def test_run_report_has_every_section_in_markdown_and_html(run_copy):
    _, workdir = run_copy
    md_path, html_path = write_report(workdir)
    md, page = md_path.read_text(), html_path.read_text()
    found = [h.split(":")[0] for h in headings(md)]
    assert found == [s.split(":")[0] for s in RUN_SECTIONS]
    for section in RUN_SECTIONS:
        title = section.lstrip("# ")
        level = section.count("#")
        assert f"<h{level}>{title}" in page
    metrics = json.loads((workdir / "metrics.json").read_text())
    # The metric table: mean beside sampled for every metric of both representations.
    row = next(line for line in md.splitlines() if line.startswith("| mig |"))
    assert row == f"| mig | {metrics['eval/mig']:.4g} | {metrics['eval/sampled/mig']:.4g} |"
    assert (
        f'"model": "{metrics and json.loads((workdir / "config.json").read_text())["model"]}"' in md
    )
    for name in (*FIGURES, "training_curves.png"):
        assert f"](figures/{name})" in md
    # Self-contained: every image inlined, byte for byte, none linked.
    inlined = re.findall(r'src="data:image/(?:png|gif);base64,([^"]+)"', page)
    assert len(inlined) == len(FIGURES) + 1 and 'src="figures/' not in page
    gif = (workdir / "figures" / "traversals.gif").read_bytes()
    assert base64.b64encode(gif).decode() in inlined


def test_training_curves_read_back_the_logged_scalars(run_copy):
    _, workdir = run_copy
    scalars = read_scalars(workdir)
    np.testing.assert_array_equal(scalars["train/loss"][0], [4, 8, 12])
    metrics = json.loads((workdir / "metrics.json").read_text())
    np.testing.assert_allclose(scalars["train/loss"][1][-1], metrics["train/loss"], rtol=1e-6)
    np.testing.assert_allclose(scalars["eval/mig"][1], [metrics["eval/mig"]], rtol=1e-6)


def fake_sweep(workdir):
    """A sweep directory as `run_sweep` leaves it: population.json, members/<m>/ events,
    results.json and plots/."""
    rows = []
    for m, beta in enumerate((1.0, 4.0, 1.0, 4.0)):
        writer = SummaryWriter(str(workdir / "members" / str(m)))
        for step in (2, 4):
            writer.add_scalar("train/loss", 10.0 - step + m, step)
        writer.close()
        rows.append(
            {"member": m, "objective": "beta_vae", "seed": m // 2, "beta": beta, "alive": True}
            | {"train/loss": 6.0 + m, "eval/mig": 0.1 * m, "eval/sampled/mig": 0.05 * m}
        )
    (workdir / "population.json").write_text(json.dumps([{"seed": 0}, {"seed": 1}]))
    (workdir / "results.json").write_text(json.dumps(rows))
    plot_sweep(rows, workdir)
    return rows


def test_sweep_report_has_members_curves_results_and_plots(tmp_path):
    rows = fake_sweep(tmp_path)
    md_path, html_path = write_report(tmp_path)
    md = md_path.read_text()
    assert headings(md) == [
        "# Sweep report: " + tmp_path.name,
        "## Members",
        "## Training curves",
        "## Results",
        "## Plots",
    ]
    # mig over the members 0, .1, .2, .3: mean .15, sd √(.0125); sampled: half of it.
    assert "| mig | 0.15 ± 0.11 | 0.075 ± 0.056 |" in md
    assert "the same for all: objective=beta_vae, alive=True" in md
    assert "| member | seed | beta | mig | sampled/mig |" in md
    assert f"| 3 | 1 | 4 | {rows[3]['eval/mig']:.4g} | 0.15 |" in md
    for name in ("mig.png", "sampled_mig.png", "rank_correlation.png"):
        assert f"](plots/{name})" in md
    assert html_path.read_text().count("data:image/png;base64,") == 4  # curves + 3 plots


def test_bad_workdir_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(UserError, match="no run") as error:
        write_report(tmp_path)
    assert "\n" not in str(error.value)
    with pytest.raises(UserError, match="not a directory"):
        write_report(tmp_path / "missing")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="cannot read"):
        write_report(tmp_path)
    assert cli.main(["report", "--workdir", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("disentax: error: report:") and err.count("\n") == 1
