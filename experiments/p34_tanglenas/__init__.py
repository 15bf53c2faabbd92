"""P34: TangleNAS (Sukthanker et al.): weight superposition (one mixed weight tensor per layer,
the α-weighted sum of zero-padded sub-kernels) for DARTS/DrNAS in a weight-entangled conv-macro
space, against the two-stage SPOS + random search."""
