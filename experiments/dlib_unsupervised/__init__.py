"""disentanglement_lib's unsupervised study (Locatello et al. 2019): one model per run."""
