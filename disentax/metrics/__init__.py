"""Disentanglement metrics as pure, jittable JAX functions of codes and ground-truth factors."""

from disentax.metrics.irs import irs
from disentax.metrics.mig import discrete_entropy, discrete_mutual_info, histogram_discretize, mig
from disentax.metrics.modularity import modularity, modularity_from_mutual_info
from disentax.metrics.sap import sap
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
]
