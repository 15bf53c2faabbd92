"""P51's claims as functions of a results file (`main.py`'s `results/<setting>.json`), each
returning the list of what failed (empty: the claim holds). Feature 0 is the noisy, high-λ
one, feature 1 the clean, high-ρ one with the smaller λ (`config.FEATURES`).

    python -m experiments.p51_jepa_implicit_bias.claims results/cpu.json

prints each claim's outcome and exits non-zero when one differs from `EXPECTED_FAILURES`
(a claim expected to fail that holds, or one that fails unexpectedly), as a strict xfail would.
"""

import argparse
import itertools
import json
import pathlib
import sys

RESULTS = pathlib.Path(__file__).resolve().with_name("results")
COMMITTED = RESULTS / "cpu.json"
# Largest |measured / predicted − 1| of a critical step: the closed form is for gradient flow
# plus the first-order Euler correction (`theory.critical_steps`, 3e-4 from the exact scalar map
# at these settings); what is left is the coupling of the features through the sample
# cross-covariances (|Σ̂_ij| ~ 1/√N, N = 65,536) and the trajectory's logging interval.
TOLERANCE = 0.01


def _members(results, objective=None, depth=None):
    return [
        r
        for r in results["members"]
        if (objective is None or r["objective"] == objective)
        and (depth is None or (depth(r["depth"]) if callable(depth) else r["depth"] == depth))
    ]


def _name(r) -> str:
    return f"{r['data']} {r['objective']} L={r['depth']} seed {r['seed']}"


def mae_follows_lambda(results) -> list[str]:
    """MAE learns the high-λ feature first at every depth, on both data models."""
    return [
        f"{_name(r)}: high-rho first (t* {r['t_measured'][0]:.0f} vs {r['t_measured'][1]:.0f})"
        for r in _members(results, "mae")
        if r["first"] != 0
    ]


def jepa_agrees_with_mae_at_depth_one(results) -> list[str]:
    """At L = 1, JEPA learns its features in MAE's order (the high-λ one first)."""
    mae = {(r["data"], r["seed"]): r["first"] for r in _members(results, "mae", 1)}
    return [
        f"{_name(r)}: feature {r['first']} first, MAE feature {mae[(r['data'], r['seed'])]}"
        for r in _members(results, "jepa", 1)
        if r["first"] != mae[(r["data"], r["seed"])]
    ]


def jepa_learns_high_rho_first_from_depth_two(results) -> list[str]:
    """With L ≥ 2, JEPA learns the high-ρ feature first although its λ is smaller (the issue's
    wording of the paper's claim), every depth, data model and seed."""
    return [
        f"{_name(r)}: high-lambda first (t*0/t*1 = {r['ratio']:.3f}, closed form "
        f"{r['ratio_predicted']:.3f})"
        for r in _members(results, "jepa", lambda L: L >= 2)
        if r["first"] != 1
    ]


def jepa_order_flips_at_some_depth(results) -> list[str]:
    """On each data model there is a depth at which every seed of JEPA learns the high-ρ
    feature first, and it stays so at every greater depth."""
    failed = []
    for data in sorted({r["data"] for r in results["members"]}):
        flipped = [
            all(r["first"] == 1 for r in _members(results, "jepa", L) if r["data"] == data)
            for L in sorted({r["depth"] for r in results["members"]})
        ]
        if not any(flipped) or flipped[flipped.index(True) :] != [True] * flipped.count(True):
            failed.append(f"{data}: all seeds high-rho first by depth: {flipped}")
    return failed


def jepa_bias_grows_with_depth(results) -> list[str]:
    """JEPA's mean t*_high-λ / t*_high-ρ rises strictly with L on each data model, and from
    L = 1 to the deepest it rises more than MAE's."""
    failed = []
    for data in sorted({r["data"] for r in results["summary"]}):
        rows = {
            (r["objective"], r["depth"]): r["ratio_mean"]
            for r in results["summary"]
            if r["data"] == data
        }
        depths = sorted({d for _, d in rows})
        jepa = [rows[("jepa", d)] for d in depths]
        mae = [rows[("mae", d)] for d in depths]
        if any(b <= a for a, b in itertools.pairwise(jepa)):
            failed.append(f"{data}: JEPA ratio by depth {[round(x, 3) for x in jepa]}")
        if jepa[-1] / jepa[0] <= mae[-1] / mae[0]:
            failed.append(
                f"{data}: JEPA's rise {jepa[-1] / jepa[0]:.3f} <= MAE's {mae[-1] / mae[0]:.3f}"
            )
    return failed


def critical_times_match_closed_form(results) -> list[str]:
    """Every member's measured critical steps are within `TOLERANCE` of the closed form at its
    sample moments, and its learning order is the closed form's."""
    failed = []
    for r in results["members"]:
        worst = max(abs(e) for e in r["relative_error"])
        if not worst <= TOLERANCE:
            failed.append(f"{_name(r)}: |measured/predicted - 1| = {worst:.4f}")
        if r["first"] != r["first_predicted"]:
            failed.append(
                f"{_name(r)}: order {r['first']} first, closed form {r['first_predicted']}"
            )
    return failed


def first_feature_times_match_closed_form(results) -> list[str]:
    """Before any latent mixing (NOTES.md): the critical step of each member's first-learned
    feature, and of every MAE feature, is within `TOLERANCE` of the closed form."""
    failed = []
    for r in results["members"]:
        errors = (
            r["relative_error"] if r["objective"] == "mae" else [r["relative_error"][r["first"]]]
        )
        worst = max(abs(e) for e in errors)
        if not worst <= TOLERANCE:
            failed.append(f"{_name(r)}: |measured/predicted - 1| = {worst:.4f}")
    return failed


CLAIMS = {
    f.__name__: f
    for f in (
        mae_follows_lambda,
        jepa_agrees_with_mae_at_depth_one,
        jepa_learns_high_rho_first_from_depth_two,
        jepa_order_flips_at_some_depth,
        jepa_bias_grows_with_depth,
        critical_times_match_closed_form,
        first_feature_times_match_closed_form,
    )
}

# The claims that do not reproduce on the committed `results/cpu.json`, with the measured numbers.
EXPECTED_FAILURES: dict[str, str] = {
    "jepa_learns_high_rho_first_from_depth_two": (
        "not at L = 2-3 (measured t*_highλ/t*_highρ over 5 seeds: static L=2 0.982 ± 0.002, "
        "L=3 0.989 ± 0.002, dynamic L=2 0.985 ± 0.011, all seeds high-λ first), as the closed "
        "form says for these (λ, ρ, ε) (0.922, 0.973, 0.976): the order flips from L = 4 "
        "(static, λ_B/λ_A = 0.9) and L = 3 (dynamic, 0.95); NOTES.md 'Theory'"
    ),
    "critical_times_match_closed_form": (
        "the later, high-ρ feature of JEPA where the high-λ one is learned first is early by up "
        "to 6.7 % (static L=1 4.0-5.3 %, L=2 5.4-6.7 %, L=3 1.7-2.0 %, dynamic L=1-2 up to "
        "2.1 %): the latent that learned the high-λ feature turns to the high-ρ one (NOTES.md "
        "'Beyond the decoupled theory'); all other critical steps within 7e-4"
    ),
}


def check(results) -> dict[str, list[str]]:
    """{claim: what failed} for every claim."""
    return {name: claim(results) for name, claim in CLAIMS.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=pathlib.Path, nargs="?", default=COMMITTED)
    args = parser.parse_args(argv)
    outcomes = check(json.loads(args.results.read_text()))
    surprises = 0
    for name, failed in outcomes.items():
        expected = name in EXPECTED_FAILURES
        surprises += bool(failed) != expected
        status = "fails" if failed else "holds"
        print(f"{name}: {status}{' (expected)' if expected == bool(failed) else ' (UNEXPECTED)'}")
        for line in failed[:10]:
            print(f"    {line}")
    return 1 if surprises else 0


if __name__ == "__main__":
    sys.exit(main())
