"""Paper experiments, one package per seed paper (`p<NN>_<slug>`), and disentanglement_lib's
studies; the index is `README.md`."""
