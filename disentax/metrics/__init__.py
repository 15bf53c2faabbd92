"""Disentanglement metrics as pure, jittable JAX functions of codes and ground-truth factors."""

from disentax.metrics.mig import discrete_entropy, discrete_mutual_info, histogram_discretize, mig

__all__ = ["discrete_entropy", "discrete_mutual_info", "histogram_discretize", "mig"]
