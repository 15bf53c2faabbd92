"""P45 and P27: the local interaction basis (Bushnaq et al. 2024) of a digits MLP against PCA
and neurons (directions needed, interaction sparsity, rank deficits), and P27's local learning
coefficient of networks with planted degeneracy."""
