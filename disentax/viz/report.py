"""Run reports: `report.md` and a self-contained `report.html` of a run or sweep directory."""

import base64
import html
import json
import math
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from disentax.errors import UserError  # noqa: E402
from disentax.viz.events import read_scalars  # noqa: E402

FIGURES_DIR, PLOTS_DIR = "figures", "plots"
CURVES = "training_curves.png"
MIME = {".png": "image/png", ".gif": "image/gif"}
STYLE = (
    "body{font-family:sans-serif;max-width:70em;margin:auto;padding:1em}"
    "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px}"
    "td.n{text-align:right;font-family:monospace}img{max-width:100%;image-rendering:pixelated}"
    "pre{background:#f4f4f4;padding:.5em;overflow:auto;font-size:85%}"
)


def write_report(workdir: str | pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """Writes `workdir/report.md` (images linked by relative path) and `workdir/report.html`
    (images inlined as base64) for a single run (`config.json`: config, training curves,
    losses, the metric table of the mean and sampled representations, the figures) or a sweep
    (`results.json` / `population.json`: member configs, curves per member, the results table,
    the sweep plots). Draws `figures/training_curves.png`. Returns (md path, html path)."""
    workdir = pathlib.Path(workdir)
    if not workdir.is_dir():
        raise UserError(f"report: {str(workdir)!r} is not a directory; name a run's --workdir")
    if (workdir / "config.json").exists():
        blocks = run_blocks(workdir)
    elif (workdir / "results.json").exists() or _populations(workdir):
        blocks = sweep_blocks(workdir)
    else:
        raise UserError(
            f"report: {workdir} holds no run (no config.json) and no sweep (no results.json or "
            "population.json); name the --workdir of `disentax train` or `disentax sweep`"
        )
    md_path, html_path = workdir / "report.md", workdir / "report.html"
    md_path.write_text(to_markdown(blocks))
    html_path.write_text(to_html(blocks, workdir, f"disentax report: {workdir.name}"))
    return md_path, html_path


# --- content ---


def _read_json(path: pathlib.Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"report: cannot read {path} ({e})") from None


def run_blocks(workdir: pathlib.Path) -> list[tuple]:
    """The sections of a single run's report."""
    config = _read_json(workdir / "config.json")
    blocks = [("h1", f"Run report: {workdir.name}")]
    blocks += [("h2", "Config"), ("code", json.dumps(config, indent=2, sort_keys=True))]
    blocks += [("h2", "Training curves"), *curve_blocks({"": read_scalars(workdir)}, workdir)]
    metrics_path = workdir / "metrics.json"
    results = _read_json(metrics_path) if metrics_path.exists() else None
    blocks += [("h2", "Losses")]
    blocks += loss_blocks(results) if results else [("p", "Not evaluated yet (no metrics.json).")]
    blocks += [("h2", "Metrics")]
    blocks += metric_blocks(results) if results else [("p", "Not evaluated yet.")]
    blocks += [("h2", "Figures"), *figure_blocks(workdir, FIGURES_DIR, skip={CURVES})]
    return blocks


def sweep_blocks(workdir: pathlib.Path) -> list[tuple]:
    """The sections of a sweep's (or population's) report."""
    rows = _read_json(workdir / "results.json") if (workdir / "results.json").exists() else []
    blocks = [("h1", f"Sweep report: {workdir.name}")]
    blocks += [("h2", "Members")]
    for path in _populations(workdir):
        configs = _read_json(path)
        name = path.parent.relative_to(workdir).as_posix()
        blocks += [("p", f"Population `{name}`: {len(configs)} members.")]
        blocks += [("code", json.dumps(configs[0], indent=2, sort_keys=True))]
    curves = {
        logdir.relative_to(workdir).as_posix().replace("members/", "member "): read_scalars(logdir)
        for logdir in sorted(
            [*workdir.glob("members/*"), *workdir.glob("group_*/members/*")], key=_natural
        )
        if logdir.is_dir()
    }
    blocks += [("h2", "Training curves"), *curve_blocks(curves, workdir)]
    blocks += [("h2", "Results")]
    if rows:
        blocks += summary_blocks(rows)
        names = list(dict.fromkeys(k for r in rows for k in r))
        columns = [
            c
            for c in names
            if "/" not in c and (c == "member" or len({str(r.get(c)) for r in rows}) > 1)
        ]
        same = {c: rows[0].get(c) for c in names if "/" not in c and c not in columns}
        columns += [c for c in names if c.startswith("eval/")]
        table = [[r.get(c, "") for c in columns] for r in rows]
        blocks += [
            ("p", "Per member; the same for all: " + ", ".join(f"{k}={v}" for k, v in same.items()))
        ]
        blocks += [("table", [c.removeprefix("eval/") for c in columns], table)]
        if (workdir / "results.csv").exists():
            blocks += [("p", "All columns (train metrics too): results.csv.")]
    else:
        blocks += [("p", "Not evaluated yet (no results.json).")]
    blocks += [("h2", "Plots"), *figure_blocks(workdir, PLOTS_DIR)]
    return blocks


def _populations(workdir: pathlib.Path) -> list[pathlib.Path]:
    """The `population.json` of a sweep directory: its own, or one per `group_<g>/`."""
    return sorted([*workdir.glob("population.json"), *workdir.glob("group_*/population.json")])


def _natural(path: pathlib.Path):
    """Sort key: numbered parts by number (member 10 after member 9)."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.parts]


def curve_blocks(curves: dict[str, dict], workdir: pathlib.Path) -> list[tuple]:
    """`figures/training_curves.png` of the `train/*` scalars (and `eval/*` ones logged more than
    once), one line per entry of `curves` ({label: `read_scalars` output})."""
    logged = {}
    for scalars in curves.values():
        for tag, (steps, _) in scalars.items():
            logged[tag] = max(logged.get(tag, 0), len(steps))
    tags = [
        t for t, n in logged.items() if t.startswith("train/") or (t.startswith("eval/") and n > 1)
    ]
    if not tags:
        return [("p", "No training scalars logged yet.")]
    columns = min(3, len(tags))
    rows = math.ceil(len(tags) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.8 * rows), squeeze=False)
    for ax, tag in zip(axes.flat, tags, strict=False):
        for label, scalars in curves.items():
            if tag in scalars:
                ax.plot(*scalars[tag], label=label or None, marker="." if label else None)
        ax.set_title(tag, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(tags) :]:
        ax.axis("off")
    if len(curves) > 1:
        axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    path = workdir / FIGURES_DIR / CURVES
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return [("img", f"{FIGURES_DIR}/{CURVES}", "training curves")]


def loss_blocks(results: dict) -> list[tuple]:
    """Final train losses beside the held-out ones (`train/<x>` and `eval/<x>` of metrics.json)."""
    names = [k.removeprefix("train/") for k in results if k.startswith("train/")]
    rows = [[n, results.get(f"train/{n}", ""), results.get(f"eval/{n}", "")] for n in names]
    return [
        ("p", f"At step {results.get('step', '?')}."),
        ("table", ["", "train", "held-out"], rows),
    ]


def metric_blocks(results: dict) -> list[tuple]:
    """The metric table: one row per metric, its value on the mean and sampled representations
    (`eval/<m>` and `eval/sampled/<m>`; losses excluded); one value column when nothing was
    scored on sampled codes."""
    losses = {f"eval/{k.removeprefix('train/')}" for k in results if k.startswith("train/")}
    mean = {
        k.removeprefix("eval/"): v
        for k, v in results.items()
        if k.startswith("eval/") and not k.startswith("eval/sampled/") and k not in losses
    }
    sampled = {k.removeprefix("eval/sampled/"): v for k, v in results.items() if "/sampled/" in k}
    names = list(dict.fromkeys([*mean, *sampled]))
    if not names:
        return [("p", "No metrics were computed.")]
    if not sampled:  # one representation (or a task that is not a VAE): one column
        return [("table", ["metric", "value"], [[n, v] for n, v in mean.items()])]
    rows = [[n, mean.get(n, ""), sampled.get(n, "")] for n in names]
    return [("table", ["metric", "mean", "sampled"], rows)]


def summary_blocks(rows: list[dict]) -> list[tuple]:
    """Mean ± standard deviation over the members of each metric, mean and sampled
    representations side by side."""

    def spread(key):
        values = np.array([r[key] for r in rows if isinstance(r.get(key), int | float)], float)
        return f"{values.mean():.4g} ± {values.std():.2g}" if values.size else ""

    names = [
        k.removeprefix("eval/")
        for k in dict.fromkeys(k for r in rows for k in r)
        if k.startswith("eval/") and not k.startswith("eval/sampled/")
    ]
    table = [[n, spread(f"eval/{n}"), spread(f"eval/sampled/{n}")] for n in names]
    return [
        ("p", f"Over {len(rows)} members (mean ± sd)."),
        ("table", ["metric", "mean", "sampled"], table),
    ]


def figure_blocks(workdir: pathlib.Path, folder: str, skip=frozenset()) -> list[tuple]:
    """One image block per PNG/GIF in `workdir/folder`, by name."""
    directory = workdir / folder
    paths = sorted(p for p in directory.glob("*") if p.suffix in MIME and p.name not in skip)
    if not paths:
        return [("p", f"No figures in {folder}/ yet.")]
    return [("img", f"{folder}/{p.name}", p.stem) for p in paths]


# --- rendering ---


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def to_markdown(blocks: list[tuple]) -> str:
    """Markdown of the blocks; images linked by their path relative to the workdir."""
    out = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2"):
            out.append(f"{'#' * int(kind[1])} {block[1]}\n")
        elif kind == "p":
            out.append(f"{block[1]}\n")
        elif kind == "code":
            out.append(f"```json\n{block[1]}\n```\n")
        elif kind == "img":
            out.append(f"**{block[2]}**\n\n![{block[2]}]({block[1]})\n")
        elif kind == "table":
            header, rows = block[1], block[2]
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
            out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def to_html(blocks: list[tuple], workdir: pathlib.Path, title: str) -> str:
    """A self-contained HTML page of the blocks: images inlined as base64 data URIs."""
    body = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(block[1])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{html.escape(block[1])}</p>")
        elif kind == "code":
            body.append(f"<pre>{html.escape(block[1])}</pre>")
        elif kind == "img":
            path = workdir / block[1]
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            body.append(
                f'<figure><img src="data:{MIME[path.suffix]};base64,{data}" '
                f'alt="{html.escape(block[2])}"><figcaption>{html.escape(block[2])}'
                "</figcaption></figure>"
            )
        elif kind == "table":
            header = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
            rows = "".join(
                "<tr>"
                + "".join(
                    f"<td{' class=n' if isinstance(v, int | float) else ''}>"
                    f"{html.escape(_cell(v))}</td>"
                    for v in row
                )
                + "</tr>"
                for row in block[2]
            )
            body.append(f"<table><tr>{header}</tr>{rows}</table>")
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
