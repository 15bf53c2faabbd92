"""P32: quantum transfer learning (Sarkar, arXiv 2408.03351): a dense autoencoder's latent,
reduced by PCA to 5 angles, read by a 5-qubit feature map (R_y, H, CNOT cascade) whose 32
outcome probabilities feed an MLP, against the same MLP on the latent."""
