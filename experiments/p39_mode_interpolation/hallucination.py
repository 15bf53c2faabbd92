"""P39's measurements as pure functions of arrays (numpy): the toy mixtures' modes, the
hallucination criterion, where hallucinations lie, the trajectory-variance score, its ROC AUC
and operating point, and the recursive-training filters.

- Modes, as the paper's code builds them: "line" μ ∈ {1, 2, 3} (1-D), σ as given; "grid" the
  5×5 grid 2·{−2, …, 2}² and "rotated" its "diamond" control (the grid turned by 45° and shrunk
  by √2: the 25 points (i − j, i + j), i, j ∈ {−2, …, 2}), σ = 0.05, both divided by the
  data's overall std √(σ² + 8) ≈ 2.83 (`scale`).
  Data: x = μ_c + σ ε, c uniform. Adjacent modes are `spacing` apart (1 on the line, 2/2.83 on
  the grid, √2/2.83 on the rotated grid); on the rotated grid the pairs √2 × that apart lie along
  the x and y axes, exactly as far apart as the grid's adjacent modes.
- Hallucination: a sample farther than k·σ from every mode, ‖x − μ_c‖ > kσ for all c (k = 4):
  off the support for all practical purposes — the data itself lands there at the rate
  P(χ²_D > k²) (`data_rate`: 6.3e-5 in 1-D, 3.4e-4 in 2-D at k = 4).
- Where: the segments [μ_a, μ_b] between *adjacent* modes (‖μ_a − μ_b‖ = the spacing) and between
  *diagonal* ones (√2 × the spacing; in the rotated grid these run along the x and y axes). A
  hallucination is "on an adjacent segment" when its distance to the nearest one is ≤ τ, "on a
  diagonal segment" when it is ≤ τ from one and not on an adjacent one (τ = kσ).
- Score (the paper's Hal(x)): the variance over the last K steps of the predicted clean sample
  x̂_0(t) = (x_t − √(1 − ᾱ_t) ε_θ(x_t, t))/√ᾱ_t, per dimension, averaged over dimensions:
  Hal(x) = (1/D) Σ_d Var_{t < K} x̂_0(t)_d  (K = 10 of T = 1000 in the paper's code).
- Operating point: the threshold is the 96 % quantile of the in-support samples' scores on one
  half of the samples (the abstract's 96 % retention), applied to the other half, where the
  removal (hallucinations scored above it) and retention (in-support samples at or below it)
  rates are measured.
- Filters of recursive training: keep the `keep` samples of lowest score ("variance") or
  `keep` drawn uniformly without replacement ("random").
"""

import math

import numpy as np
from scipy.stats import rankdata

from disentax.errors import UserError

KINDS = ("line", "grid", "rotated")
RETENTION = 0.96  # the abstract's retention of in-support samples: the operating point
FILTERS = ("variance", "random")


def scale(kind: str, std: float = 0.05) -> float:
    """The divisor of the paper's 2-D data, √(σ² + 8) (its overall per-axis std); 1 on the line."""
    check(kind)
    return 1.0 if kind == "line" else math.sqrt(std**2 + 8.0)


def check(kind: str) -> None:
    if kind not in KINDS:
        raise UserError(f"unknown data kind {kind!r}; known: {', '.join(KINDS)}")


def modes(kind: str, std: float = 0.05) -> np.ndarray:
    """The mixture's means `[C, D]` (module docstring), divided by `scale`."""
    check(kind)
    if kind == "line":
        return np.asarray([[1.0], [2.0], [3.0]])
    i, j = (a.ravel() for a in np.meshgrid(np.arange(-2.0, 3.0), np.arange(-2.0, 3.0)))
    raw = 2 * np.stack([i, j], -1) if kind == "grid" else np.stack([i - j, i + j], -1)
    return raw / scale(kind, std)


def spacing(kind: str, std: float = 0.05) -> float:
    """The distance between adjacent modes."""
    return {"line": 1.0, "grid": 2.0, "rotated": math.sqrt(2.0)}[kind] / scale(kind, std)


def noise_std(kind: str, std: float) -> float:
    """σ in the data's units (σ / `scale`)."""
    return std / scale(kind, std)


def sample_mixture(kind: str, std: float, num: int, rng: np.random.Generator) -> np.ndarray:
    """`[num, D]` draws μ_c + σ ε, c uniform."""
    mu = modes(kind, std)
    noise = noise_std(kind, std) * rng.standard_normal((num, mu.shape[1]))
    return mu[rng.integers(0, len(mu), num)] + noise


def data_rate(dim: int, k: float = 4.0) -> float:
    """P(‖σ ε‖ > kσ) = P(χ²_D > k²) for D = 1 (2Φ(−k)) or 2 (exp(−k²/2)): the data's own rate
    of 'hallucinations' when the modes are far apart."""
    if dim == 1:
        return math.erfc(k / math.sqrt(2))
    if dim == 2:
        return math.exp(-(k**2) / 2)
    raise UserError(f"data_rate is for 1-D or 2-D data, got {dim}")


def nearest_mode(x: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index `[N]`, distance `[N]`) of each point's nearest mode."""
    d = np.linalg.norm(x[:, None, :] - mu[None], axis=-1)
    return d.argmin(1), d.min(1)


def hallucinated(x: np.ndarray, mu: np.ndarray, std: float, k: float = 4.0) -> np.ndarray:
    """`[N]` bool: farther than kσ from every mode."""
    return nearest_mode(x, mu)[1] > k * std


def segments(mu: np.ndarray, length: float) -> np.ndarray:
    """`[S, 2, D]` the segments between modes exactly `length` apart (to 1e-6)."""
    i, j = np.triu_indices(len(mu), 1)
    dist = np.linalg.norm(mu[i] - mu[j], axis=-1)
    keep = np.abs(dist - length) < 1e-6
    return np.stack([mu[i[keep]], mu[j[keep]]], 1)


def segment_distance(x: np.ndarray, segs: np.ndarray) -> np.ndarray:
    """`[N]` the distance of each point to the nearest of the segments `[S, 2, D]`."""
    a, b = segs[None, :, 0], segs[None, :, 1]
    ab = b - a
    u = np.clip(np.sum((x[:, None] - a) * ab, -1) / np.sum(ab * ab, -1), 0.0, 1.0)
    return np.linalg.norm(x[:, None] - (a + u[..., None] * ab), axis=-1).min(1)


def placement(x: np.ndarray, mu: np.ndarray, gap: float, tau: float) -> dict[str, float]:
    """Of the points `x` (the hallucinations), the fractions on an adjacent segment and on a
    diagonal one only (module docstring); NaN when there are none."""
    if len(x) == 0:
        return {"adjacent": math.nan, "diagonal": math.nan}
    adjacent = segment_distance(x, segments(mu, gap)) <= tau
    diagonal = np.zeros_like(adjacent)
    if mu.shape[1] == 2:
        diagonal = (segment_distance(x, segments(mu, math.sqrt(2) * gap)) <= tau) & ~adjacent
    return {"adjacent": float(adjacent.mean()), "diagonal": float(diagonal.mean())}


def trajectory_variance(x0_hat: np.ndarray) -> np.ndarray:
    """Hal(x) `[N]` from x̂_0 over the last K steps `[K, N, D]`: Var over steps, mean over dims."""
    return np.asarray(x0_hat).var(0).mean(-1)


def roc_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """P(score of a positive > score of a negative) + ½ P(tie) (Mann–Whitney); NaN without
    both classes."""
    pos, neg = score[positive], score[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    ranks = rankdata(np.concatenate([pos, neg]))  # average ranks for ties
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def operating_point(score: np.ndarray, positive: np.ndarray) -> dict[str, float]:
    """The threshold from the first half (the `RETENTION` quantile of its in-support scores) and
    the removal and retention rates on the second half (module docstring)."""
    half = len(score) // 2
    calibration = score[:half][~positive[:half]]
    if len(calibration) == 0:
        return {"threshold": math.nan, "removal": math.nan, "retention": math.nan}
    threshold = float(np.quantile(calibration, RETENTION))
    s, p = score[half:], positive[half:]
    removal = float((s[p] > threshold).mean()) if p.any() else math.nan
    retention = float((s[~p] <= threshold).mean()) if (~p).any() else math.nan
    return {"threshold": threshold, "removal": removal, "retention": retention}


def keep(score: np.ndarray, num: int, how: str, rng: np.random.Generator) -> np.ndarray:
    """Indices of the `num` samples kept by the filter `how` (module docstring), sorted."""
    if how not in FILTERS:
        raise UserError(f"unknown filter {how!r}; known: {', '.join(FILTERS)}")
    if not 0 < num <= len(score):
        raise UserError(f"keep must be in 1..{len(score)}, got {num}")
    if how == "variance":
        return np.sort(np.argsort(score, kind="stable")[:num])
    return np.sort(rng.choice(len(score), num, replace=False))


def mode_occupancy(x: np.ndarray, mu: np.ndarray, std: float, k: float = 4.0) -> np.ndarray:
    """`[C]` the fraction of samples within kσ of each mode."""
    index, dist = nearest_mode(x, mu)
    return np.bincount(index[dist <= k * std], minlength=len(mu)) / max(len(x), 1)


def modes_covered(x: np.ndarray, mu: np.ndarray, std: float, k: float = 4.0) -> int:
    """The modes holding at least a quarter of their uniform share 1/C of the samples."""
    return int((mode_occupancy(x, mu, std, k) >= 0.25 / len(mu)).sum())


def summary(x: np.ndarray, x0_hat: np.ndarray, kind: str, std: float) -> dict[str, float]:
    """Every number of one model's samples `x` `[N, D]` and their x̂_0 trajectory `[K, N, D]`
    (σ = `std` before scaling, as in the config)."""
    mu, sigma = modes(kind, std), noise_std(kind, std)
    positive = hallucinated(x, mu, sigma)
    score = trajectory_variance(x0_hat)
    where = placement(x[positive], mu, spacing(kind, std), 4.0 * sigma)
    return {
        "hallucination_rate": float(positive.mean()),
        "num_hallucinations": int(positive.sum()),
        "adjacent_fraction": where["adjacent"],
        "diagonal_fraction": where["diagonal"],
        "auc": roc_auc(score, positive),
        **operating_point(score, positive),
        "modes_covered": modes_covered(x, mu, sigma),
    }
