"""P49's claims as plain functions of a results file (`main.py`'s `results/<setting>.json`), each
returning None when it holds or a one-line statement of what failed, with the measured numbers.

The paper (abstract): the QAOA-enhanced convolutional autoencoder (QCAE) reaches a lower training
loss and a higher SSIM than the classical CAE, up to 40 % higher on MNIST, and the QAOA design
beats other circuit designs by 25 % on average. Here, on noisy 8×8 digits, with SSIM on the
held-out split (`ssim.py`), differences paired by seed (same batches, same test noise):

(a) `cae_denoises`: the CAE's test SSIM is clearly above the noisy inputs' at the main point
    (n = 6, σ = 0.4): the baseline works (paired 95 % t-interval's lower end > 0).
(b) `qcae_above_cae`: at every point (n, σ) of the sweep, the QAOA-QCAE at p = `P_MAIN` is
    clearly above the parameter-matched CAE (lower end of QCAE − CAE > 0).
(c) `qcae_40_percent_above_cae`: the largest relative gain SSIM_QCAE / SSIM_CAE − 1 (mean over
    seeds) among the QAOA runs reaches `GAIN_CAE` = 0.40 ("up to 40 %").
(d) `qaoa_above_other_designs`: at the main point, the SSIM averaged over p = 1..4 of the QAOA
    is clearly above that of the hardware-efficient and of the unentangled circuit.
(e) `qaoa_25_percent_above_other_designs`: the QAOA's relative gain over the other two designs,
    averaged over them and over p = 1..4, reaches `GAIN_DESIGNS` = 0.25.

    python -m experiments.p49_qaoa_autoencoder.claims RESULTS  # e.g. its results/cpu.json

prints the claim table and each claim's outcome and exits non-zero when an outcome differs from
`EXPECTED_FAILURES[setting]`, as a strict xfail would.
"""

import json
import pathlib
import re
import sys

import numpy as np

from disentax.analysis import format_interval, t_interval
from disentax.errors import UserError
from experiments import claim_check
from experiments.p49_qaoa_autoencoder.config import DEPTHS, P_MAIN, QUBITS_MAIN, SIGMA_MAIN

GAIN_CAE = 0.40
GAIN_DESIGNS = 0.25
OTHER_DESIGNS = ("hea", "none")
RESULTS = pathlib.Path(__file__).resolve().with_name("results")
COMMITTED = {"cpu": RESULTS / "cpu.json"}
METRIC = "eval/test_ssim"
NAME = re.compile(r"(classical|qaoa|hea|none)(?:_p(\d+))?_n(\d+)_s([0-9.]+)(_noclip)?")
MAIN = (QUBITS_MAIN, SIGMA_MAIN)

# The claims that do not reproduce, per setting, with the measured numbers (filled from the
# committed results; `test_p49_qaoa_autoencoder_claims.py` asserts them as strict xfails).
EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    "cpu": {
        "qcae_above_cae": (
            "QCAE − CAE test SSIM not clearly > 0 at qaoa_p2_n4_s0.4: +0.008 ± 0.024; "
            "qaoa_p2_n6_s0.2: +0.004 ± 0.013; qaoa_p2_n6_s0.4: +0.007 ± 0.030; "
            "qaoa_p2_n8_s0.4: -0.004 ± 0.006"
        ),
        "qcae_40_percent_above_cae": (
            "largest QCAE / CAE − 1 test SSIM +1.4% (qaoa_p3_n6_s0.4) < 40%; at p = 2: "
            "qaoa_p2_n4_s0.4 +1.2%, qaoa_p2_n6_s0.2 +0.5%, qaoa_p2_n6_s0.4 +1.0%, "
            "qaoa_p2_n8_s0.4 -0.6%"
        ),
        "qaoa_above_other_designs": (
            "QAOA − other design, test SSIM averaged over p = 1..4, not clearly > 0: "
            "none: +0.001 ± 0.002 (hea: +0.037 ± 0.009, clearly above)"
        ),
        "qaoa_25_percent_above_other_designs": (
            "QAOA / other design − 1 test SSIM averaged over designs and p = 1..4 +2.7% < 25% "
            "(hea +5.2%, none +0.2%)"
        ),
    },
    "smoke": {},
}


def load(path: str | pathlib.Path) -> dict:
    results = json.loads(pathlib.Path(path).read_text())
    runs = results.get("runs", {})
    if not runs:
        raise UserError(f"{path}: no runs")
    for name, run in runs.items():
        parse(name)
        if not all(r["alive"] for r in run["per_seed"]):
            raise UserError(f"{path}: a {name} run went non-finite")
    return results


def parse(name: str) -> tuple[str, int, int, float]:
    """(variant, p (0 for classical), n, σ) of a run name."""
    m = NAME.fullmatch(name)
    if not m:
        raise UserError(f"not a P49 run name: {name!r}")
    return m.group(1), int(m.group(2) or 0), int(m.group(3)), float(m.group(4))


def run_of(results: dict, variant: str, p: int, point: tuple[int, float]) -> str | None:
    for name in results["runs"]:
        if parse(name) == (variant, p, *point):
            return name
    return None


def points(results: dict) -> list[tuple[int, float]]:
    """The (n, σ) points with a classical run, sorted."""
    return sorted({parse(name)[2:] for name in results["runs"] if name.startswith("classical")})


def values(results: dict, run: str, metric: str = METRIC) -> np.ndarray:
    """`metric` per seed of `run`: `[seeds]`."""
    return np.asarray([r[metric] for r in results["runs"][run]["per_seed"]], np.float64)


def paired(results: dict, a: str, b: str, metric: str = METRIC) -> np.ndarray:
    """`a` − `b` per seed: `[seeds]`."""
    if results["runs"][a]["seeds"] != results["runs"][b]["seeds"]:
        raise UserError(f"the {a} and {b} runs are not paired by seed")
    return values(results, a, metric) - values(results, b, metric)


def _interval(x: np.ndarray) -> tuple[float, float]:
    """(mean, half-width of the 95 % t-interval); one seed: (x, 0)."""
    if x.shape[0] < 2:
        return float(x[0]), 0.0
    mean, half = t_interval(x)
    return float(mean), float(half)


def _text(x: np.ndarray, digits: int = 3) -> str:
    mean, half = _interval(x)
    return format_interval(mean, half, digits=digits) if x.shape[0] > 1 else f"{mean:.{digits}f}"


def design_mean(results: dict, variant: str) -> np.ndarray | None:
    """SSIM per seed averaged over p = 1..4 at the main point; None when a depth is missing."""
    runs = [run_of(results, variant, p, MAIN) for p in DEPTHS]
    if None in runs:
        return None
    return np.mean([values(results, run) for run in runs], axis=0)


def cae_denoises(results: dict) -> str | None:
    run = run_of(results, "classical", 0, MAIN)
    if run is None:
        return "no classical run at the main point"
    gain = paired_input(results, run)
    mean, half = _interval(gain)
    if mean - half > 0:
        return None
    return f"CAE − noisy-input SSIM at the main point {mean:.3f} ± {half:.3f} not clearly > 0"


def paired_input(results: dict, run: str) -> np.ndarray:
    return values(results, run) - values(results, run, "eval/input_ssim")


def qcae_above_cae(results: dict) -> str | None:
    if not points(results):
        return "no classical run"
    bad, missing = [], []
    for point in points(results):
        cae, qcae = run_of(results, "classical", 0, point), run_of(results, "qaoa", P_MAIN, point)
        if qcae is None:
            missing.append(f"n{point[0]}_s{point[1]:g}")
            continue
        mean, half = _interval(paired(results, qcae, cae))
        if mean - half <= 0:
            bad.append(f"{qcae}: {mean:+.3f} ± {half:.3f}")
    if missing:
        return f"no qaoa_p{P_MAIN} run at {', '.join(missing)}"
    if not bad:
        return None
    return f"QCAE − CAE test SSIM not clearly > 0 at {'; '.join(bad)}"


def relative_gains(results: dict) -> dict[str, float]:
    """{qaoa run: mean over seeds of SSIM_run / SSIM_CAE − 1} at each run's point."""
    gains = {}
    for name in sorted(results["runs"]):
        variant, _, *point = parse(name)
        cae = run_of(results, "classical", 0, tuple(point))
        if variant == "qaoa" and cae is not None:
            gains[name] = float(np.mean(values(results, name) / values(results, cae) - 1))
    return gains


def qcae_40_percent_above_cae(results: dict) -> str | None:
    gains = relative_gains(results)
    if not gains:
        return "no qaoa run with a classical run at its point"
    best = max(gains, key=gains.get)
    if gains[best] >= GAIN_CAE:
        return None
    return (
        f"largest QCAE / CAE − 1 test SSIM {gains[best]:+.1%} ({best}) < {GAIN_CAE:.0%}; "
        f"at p = {P_MAIN}: "
        + ", ".join(f"{k} {v:+.1%}" for k, v in gains.items() if parse(k)[1] == P_MAIN)
    )


def qaoa_above_other_designs(results: dict) -> str | None:
    qaoa = design_mean(results, "qaoa")
    if qaoa is None:
        return "no qaoa run at every depth at the main point"
    bad = []
    for other in OTHER_DESIGNS:
        theirs = design_mean(results, other)
        if theirs is None:
            return f"no {other} run at every depth at the main point"
        mean, half = _interval(qaoa - theirs)
        if mean - half <= 0:
            bad.append(f"{other}: {mean:+.3f} ± {half:.3f}")
    if not bad:
        return None
    return (
        f"QAOA − other design, test SSIM averaged over p = 1..4, not clearly > 0: {'; '.join(bad)}"
    )


def design_gains(results: dict) -> dict[str, float] | None:
    """{other design: mean over p = 1..4 and seeds of SSIM_QAOA / SSIM_other − 1}."""
    gains = {}
    for other in OTHER_DESIGNS:
        ratios = []
        for p in DEPTHS:
            q, o = run_of(results, "qaoa", p, MAIN), run_of(results, other, p, MAIN)
            if q is None or o is None:
                return None
            ratios.append(values(results, q) / values(results, o) - 1)
        gains[other] = float(np.mean(ratios))
    return gains


def qaoa_25_percent_above_other_designs(results: dict) -> str | None:
    gains = design_gains(results)
    if gains is None:
        return "not every design at every depth at the main point"
    average = float(np.mean(list(gains.values())))
    if average >= GAIN_DESIGNS:
        return None
    return (
        f"QAOA / other design − 1 test SSIM averaged over designs and p = 1..4 {average:+.1%} < "
        f"{GAIN_DESIGNS:.0%} (" + ", ".join(f"{k} {v:+.1%}" for k, v in gains.items()) + ")"
    )


CLAIMS = {
    "cae_denoises": cae_denoises,
    "qcae_above_cae": qcae_above_cae,
    "qcae_40_percent_above_cae": qcae_40_percent_above_cae,
    "qaoa_above_other_designs": qaoa_above_other_designs,
    "qaoa_25_percent_above_other_designs": qaoa_25_percent_above_other_designs,
}


def outcomes(results: dict) -> dict[str, str | None]:
    return claim_check.outcomes(CLAIMS, results)


def expected_failures(setting: str) -> dict[str, str]:
    return claim_check.expected_failures(EXPECTED_FAILURES, setting)


def check(results: dict, setting: str) -> list[str]:
    """The claims whose outcome differs from `EXPECTED_FAILURES[setting]`."""
    return claim_check.check(CLAIMS, EXPECTED_FAILURES, results, setting)


def table(results: dict) -> str:
    """The result table (mean ± 95 % t-interval over seeds), as Markdown: per run its test SSIM,
    PSNR and MSE, its parameter count and its paired SSIM difference to the CAE at its point."""
    order = {"classical": 0, "qaoa": 1, "hea": 2, "none": 3}

    def key(name):
        variant, p, n, sigma = parse(name)
        return (sigma, n, order[variant], p)

    first = next(iter(results["runs"].values()))
    lines = [
        f"| run | n | σ | p | params | test SSIM | PSNR (dB) | MSE | SSIM − CAE | "
        f"({len(first['seeds'])} seeds) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(results["runs"], key=key):
        variant, p, n, sigma = parse(name)
        cae = run_of(results, "classical", 0, (n, sigma))
        diff = "–" if cae in (None, name) else _text(paired(results, name, cae))
        count = int(values(results, name, "eval/num_params")[0])
        lines.append(
            f"| {variant} | {n} | {sigma:g} | {p or '–'} | {count} "
            f"| {_text(values(results, name))} "
            f"| {_text(values(results, name, 'eval/test_psnr'), 2)} "
            f"| {_text(values(results, name, 'eval/test_mse'), 4)} | {diff} | {name} |"
        )
    inputs = {}
    for name in results["runs"]:
        inputs.setdefault(parse(name)[3], values(results, name, "eval/input_ssim")[0])
    lines += [
        "",
        "Noisy inputs' test SSIM: "
        + ", ".join(f"σ = {s:g}: {v:.3f}" for s, v in sorted(inputs.items())),
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    return claim_check.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
