"""disentanglement_lib's unsupervised study run as populations on two procedural datasets."""
