"""Ada-GVAE / Ada-ML-VAE on weakly-supervised pairs (Locatello et al. 2020)."""
