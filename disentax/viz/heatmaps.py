"""Factor × latent heatmaps (InfoMEC's NMI, DCI's importances) rendered to uint8 images."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from disentax.errors import UserError  # noqa: E402


def heatmap(
    matrix_RxC,
    row_labels,
    col_labels,
    *,
    title: str = "",
    vmin: float | None = 0.0,
    vmax: float | None = None,
    cmap: str = "viridis",
) -> np.ndarray:
    """`matrix [R, C]` as an annotated heatmap (rows top to bottom, columns left to right):
    uint8 `[H, W, 3]` image."""
    matrix = np.asarray(matrix_RxC, np.float64)
    if matrix.ndim != 2 or matrix.shape != (len(row_labels), len(col_labels)):
        raise UserError(
            f"heatmap needs a [rows, cols] matrix with one label per row and column, got "
            f"{matrix.shape} with {len(row_labels)} row and {len(col_labels)} column labels"
        )
    rows, cols = matrix.shape
    fig, ax = plt.subplots(figsize=(0.55 * cols + 2.5, 0.45 * rows + 1.5), dpi=100)
    image = ax.imshow(matrix, vmin=vmin, vmax=vmax, cmap=cmap, aspect="auto")
    ax.set_xticks(range(cols), [str(c) for c in col_labels], fontsize=7)
    ax.set_yticks(range(rows), [str(r) for r in row_labels], fontsize=7)
    ax.set_title(title, fontsize=9)
    middle = np.nanmean(image.get_clim())
    for i in range(rows):
        for j in range(cols):
            if np.isfinite(matrix[i, j]):
                color = "black" if matrix[i, j] > middle else "white"
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=6, c=color)
    fig.colorbar(image)
    fig.tight_layout()
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return rgb


def nmi_heatmap(nmi_KxL, factor_names=None) -> np.ndarray:
    """InfoMEC's NMI_kj = I(v_k; z_j) / H(v_k) `[K factors, L latents]` (`metrics.infomec`'s
    "nmi") in [0, 1]: factors as rows, latents z_j as columns."""
    nmi = np.asarray(nmi_KxL)
    factors = factor_names or [f"v{k}" for k in range(nmi.shape[0])]
    latents = [f"z{j}" for j in range(nmi.shape[1])]
    return heatmap(nmi, factors, latents, title="NMI(factor; latent)", vmin=0.0, vmax=1.0)


def importance_heatmap(importance_LxK, factor_names=None) -> np.ndarray:
    """DCI's importance R_jk of latent z_j for factor v_k `[L, K]`, drawn as NMI is: factors as
    rows, latents as columns (Rᵀ); normalised per factor so each row sums to 1."""
    r = np.asarray(importance_LxK, np.float64).T
    total = r.sum(axis=1, keepdims=True)
    r = np.divide(r, total, out=np.zeros_like(r), where=total > 0)
    factors = factor_names or [f"v{k}" for k in range(r.shape[0])]
    latents = [f"z{j}" for j in range(r.shape[1])]
    return heatmap(r, factors, latents, title="DCI importance (per factor)", vmin=0.0, vmax=1.0)
