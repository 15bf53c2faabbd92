"""Peer side of `metrics.py --reference dlib`: times disentanglement_lib 1.5's own metric functions.

Runs in the peers venv (`shared/tools/setup_peers.sh`: Python 3.11, disentanglement-lib 1.5
installed `--no-deps`, gin-config 0.4.0, tensorflow-cpu 2.15.1 for `gin.tf`, numpy < 2), never
in disentax's environment, and imports nothing from disentax. `metrics.py` starts it as a
subprocess with the thread pools set to one thread (OMP/OpenBLAS/MKL), hands it a `.npz` of the
problem (`codes`, `factors`, `test_codes`, `test_factors`: samples first, as disentax takes
them) and then drives it line by line over stdin/stdout (one JSON object per line), so that its
calls interleave with disentax's:

    {"metric": "mig"}  ->  {"metric": "mig", "seconds": 0.041, "values": {"discrete_mig": ...}}
    {"quit": true}     ->  (exits)

Each metric is disentanglement_lib's public `compute_*` function (`compute_mig`, `compute_sap`,
`compute_dci`, `unsupervised_metrics`, `compute_irs`, `compute_modularity_explicitness`) with
the study's settings (histogram discretizer, 20 bins; IRS `diff_quantile=0.99`), fed the arrays
by a `GroundTruthData` whose `sample` hands out the training rows and then the test rows in
order and whose observations are the codes themselves (the representation function is the
identity). `batch_size` is the whole split, so `generate_batch_factor_code` makes one call per
split instead of 625 calls of 16 points and the time is the metric's own computation (plus two
array copies); `"feed_seconds"` reports that feeding alone. The timed call is the metric only,
not the line protocol.
"""

import json
import os
import sys
import time
from importlib import metadata

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import logging  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

warnings.filterwarnings("ignore")
logging.getLogger().setLevel(logging.ERROR)  # gin 0.4.0: "Argument blacklist is deprecated"

import gin  # noqa: E402
from disentanglement_lib.evaluation.metrics import (  # noqa: E402
    dci,
    irs,
    mig,
    modularity_explicitness,
    sap_score,
    unsupervised_metrics,
    utils,
)

NUM_BINS = 20
DIFF_QUANTILE = 0.99


class ArrayData:
    """A `GroundTruthData` stand-in: `sample(n)` returns the next n rows of the stored factors and
    codes (training rows first, then test rows), the codes standing in for observations."""

    def __init__(self, codes, factors):
        self.codes, self.factors, self.cursor = codes, factors, 0

    @property
    def num_factors(self):
        return self.factors.shape[1]

    def rewind(self):
        self.cursor = 0
        return self

    def sample(self, num, random_state):
        del random_state
        rows = slice(self.cursor, self.cursor + num)
        self.cursor += num
        return self.factors[rows], self.codes[rows]


def identity(observations):
    return observations


def metric_calls(data, num_train, num_test):
    """name -> zero-argument call of disentanglement_lib's metric on the stored split."""
    common = {
        "representation_function": identity,
        "random_state": np.random.RandomState(0),
        "num_train": num_train,
    }
    split = dict(common, num_test=num_test, batch_size=max(num_train, num_test))
    return {
        "mig": lambda: mig.compute_mig(data.rewind(), **common, batch_size=num_train),
        "irs": lambda: irs.compute_irs(
            data.rewind(), **common, diff_quantile=DIFF_QUANTILE, batch_size=num_train
        ),
        "unsupervised": lambda: unsupervised_metrics.unsupervised_metrics(
            data.rewind(), **common, batch_size=num_train
        ),
        "sap_discrete": lambda: sap_score.compute_sap(
            data.rewind(), **split, continuous_factors=False
        ),
        "sap_continuous": lambda: sap_score.compute_sap(
            data.rewind(), **split, continuous_factors=True
        ),
        "dci_gbt": lambda: dci.compute_dci(data.rewind(), **split),
        "modularity_explicitness": lambda: modularity_explicitness.compute_modularity_explicitness(
            data.rewind(), **split
        ),
    }


def feed_seconds(data, num_train, num_test):
    """What `generate_batch_factor_code` costs for both splits at one batch each."""
    start = time.perf_counter()
    rng = np.random.RandomState(0)
    data.rewind()
    utils.generate_batch_factor_code(data, identity, num_train, rng, num_train)
    utils.generate_batch_factor_code(data, identity, num_test, rng, num_test)
    return time.perf_counter() - start


def plain(values):
    return {k: float(v) for k, v in values.items()}


def main():
    arrays = np.load(sys.argv[1])
    codes = np.concatenate([arrays["codes"], arrays["test_codes"]])
    factors = np.concatenate([arrays["factors"], arrays["test_factors"]])
    num_train, num_test = len(arrays["codes"]), len(arrays["test_codes"])
    gin.bind_parameter("discretizer.discretizer_fn", utils._histogram_discretize)
    gin.bind_parameter("discretizer.num_bins", NUM_BINS)
    data = ArrayData(codes, factors)
    calls = metric_calls(data, num_train, num_test)
    versions = {p: metadata.version(p) for p in ("disentanglement-lib", "numpy", "scikit-learn")}
    print(json.dumps({"ready": True, "metrics": list(calls), "versions": versions}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        name = request["metric"]
        start = time.perf_counter()
        values = calls[name]()
        seconds = time.perf_counter() - start
        reply = {"metric": name, "seconds": seconds, "values": plain(values)}
        reply["feed_seconds"] = feed_seconds(data, num_train, num_test)
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
