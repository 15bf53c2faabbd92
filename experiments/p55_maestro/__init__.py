"""P55: Maestro (Horváth et al., ICML 2024): trainable low-rank layers W = U Vᵀ with ordered
dropout over the inner rank, the hierarchical group lasso and progressive shrinking."""
