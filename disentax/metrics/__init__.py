"""Disentanglement metrics as pure, jittable JAX functions of codes and ground-truth factors."""

from disentax.metrics.beta_vae_score import beta_vae_score
from disentax.metrics.dci import dci
from disentax.metrics.downstream import downstream, downstream_accuracies
from disentax.metrics.explicitness import modularity_explicitness
from disentax.metrics.factor_vae_score import factor_vae_score
from disentax.metrics.fairness import fairness
from disentax.metrics.infomec import infomec, knn_mutual_info
from disentax.metrics.information import (
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
)
from disentax.metrics.irs import irs
from disentax.metrics.mig import mig
from disentax.metrics.modularity import modularity, modularity_from_mutual_info
from disentax.metrics.reconstruction import psnr
from disentax.metrics.sap import sap
from disentax.metrics.udr import udr
from disentax.metrics.unsupervised import unsupervised

__all__ = [
    "discrete_entropy",
    "discrete_mutual_info",
    "histogram_discretize",
    "irs",
    "mig",
    "modularity",
    "modularity_from_mutual_info",
    "sap",
    "unsupervised",
    "factor_vae_score",
    "fairness",
    "infomec",
    "knn_mutual_info",
    "udr",
    "beta_vae_score",
    "dci",
    "downstream",
    "downstream_accuracies",
    "modularity_explicitness",
    "psnr",
]
