"""P02: Disentanglement via Latent Quantization (Hsu et al. 2023) at reduced scale."""
