"""Jittable classifiers for the classifier-based metrics, one module per family: `logistic`
regression, linear `svm` on one feature, `gbt` and `forest` (ensembles of the `trees` grown on
binned features); `encoding` encodes class labels and reads predicted classes."""
