"""P49: a quantum convolutional autoencoder with a QAOA bottleneck for image denoising (Kea,
Chang, Park, Han et al., arXiv 2401.06367): a conv encoder's n features angle-encoded on n
qubits, p layers of RZZ cost and RX mixer, ⟨Z_i⟩ into a conv decoder, against a parameter-matched
classical CAE and other circuit designs, on noisy 8×8 digits."""
