"""Metrics at disentanglement_lib's sample sizes: disentax (JAX) against the reference, side by side

Every array metric scores the same 10,000 training (and 5,000 test) points of a synthetic
representation (10 codes; 5 factors of sizes 3, 6, 40, 32, 32, as dSprites) in disentax's JAX
mode, timed after compilation, and in the reference implementation: the numpy / sklearn
transcriptions of disentanglement_lib (and of the QLAE code's infomec.py) that the tests check
against (tests/metrics), or a metric's own `mode="reference"` where it calls sklearn with the
reference's settings. The BetaVAE score is timed as a whole metric (sampling included) on
disentanglement_lib's IdentityObservationsData with the identity representation; its reference
is disentanglement_lib's own sampler, one point (two batches of 64) per Python iteration, as
transcribed in tests/metrics/test_beta_vae_score.py, then sklearn's LogisticRegression. The
FactorVAE score likewise: disentanglement_lib's loop, one vote (a batch of 64) per Python
iteration after 10,000 points for the variances, then its majority-vote classifier, as
transcribed in tests/metrics/test_factor_vae_score.py. disentax draws factors exactly uniformly
with one Threefry word per group of factors (`sampling.uniform_factors`) and samples,
renders and encodes all points in one jitted `lax.map`. `beta_vae_score_network` and
`factor_vae_score_network` measure what disentanglement_lib pays per representation call: the
representation is the mean code of `tiny_fc_vae`'s encoder (4096 → 32 → 32 → 10, fixed random
weights) on `dsprites_procedural` images (5 factors), at reduced sizes (BetaVAE 2,000 train /
1,000 eval points, i.e. 384,000 images; FactorVAE 2,000 images for the variances and 2,000 /
1,000 votes, i.e. 194,000 images). The reference side is the same transcribed loop, drawing
factors with numpy `RandomState` and calling one jitted function that renders and encodes a
batch of 64 images per call (disentanglement_lib renders by indexing its in-memory dataset and
calls the TF-Hub module once per batch; the variances in one call on all their images);
disentax samples, renders and encodes 256 images (`default_images_per_call`) per step of the
`lax.map` inside its jit. The `*_default_eval` rows time each interventional metric as `disentax
evaluate` runs it on a run of the default config: through `metrics.suite` at the sizes the default
`eval.num_samples` / `eval.num_test_samples` (10,000 / 5,000) give it (`suite.interventional_sizes`:
disentanglement_lib's sizes), with the default model (`dlib_conv_vae`, 10 latents, fixed random
weights) encoding `dsprites_procedural` to its mean code; disentax only (no reference side:
disentanglement_lib's TF1 pipeline does not run here). UDR runs disentanglement_lib's 1,000 points
for a population of 10 models. Then a population of 50 models (the same factors, codes with
independent noise) is scored in one `jax.jit(jax.vmap(metric))` call and in 50 sequential calls.
Medians of interleaved repeats, in seconds; ratios > 1 favour disentax / the vmapped call. Ends with
one JSON line (also written to --out).

`--reference dlib` also times disentanglement_lib 1.5's OWN metric functions (not a
transcription) for the rows in `DLIB_METRICS` (mig, irs, unsupervised, sap_discrete,
sap_continuous, dci_gbt, modularity_explicitness): `metrics_dlib_peer.py` runs in the peers venv
(`shared/tools/setup_peers.sh`; its python by `--peer-python` or `DISENTAX_PEER_PYTHON`) as a
subprocess with one BLAS/OpenMP thread, reads the identical arrays from a `.npz` file and times
one call of `compute_mig` / `compute_sap` / ... per request, interleaved with disentax's and the
transcription's calls; the table gains a "dlib s" / "× dlib" column, the JSON rows `dlib_s`,
`dlib_speedup`, and both sides' metric values, which are printed side by side at the end.

    python experiments/benchmarks/metrics.py [--repeats 3] [--population 50] [--metrics mig irs]
        [--reference dlib [--peer-python /tmp/peers-venv/bin/python]]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np
from common import add_out_argument, write_result

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "metrics"))

from classifier_cases import IdentityData, identity_representation  # noqa: E402
from test_beta_vae_score import ref_beta_vae_score  # noqa: E402
from test_factor_vae_score import ref_factor_vae_score  # noqa: E402
from test_infomec import ref_infoe, ref_infomc  # noqa: E402
from test_irs import ref_irs  # noqa: E402
from test_mig import ref_mig  # noqa: E402
from test_modularity import ref_modularity  # noqa: E402
from test_sap import ref_sap_continuous  # noqa: E402
from test_udr import ref_udr  # noqa: E402
from test_unsupervised import ref_unsupervised  # noqa: E402

from disentax import config as config_lib  # noqa: E402
from disentax import data, metrics  # noqa: E402
from disentax.metrics import suite  # noqa: E402
from disentax.models import MODELS  # noqa: E402

FACTOR_SIZES = (3, 6, 40, 32, 32)
NUM_CODES = 10
NUM_TRAIN, NUM_TEST = 10_000, 5_000
UDR_POINTS, UDR_MODELS = 1_000, 10
IDENTITY_DATA = IdentityData()  # one instance: the jitted sampler is cached per dataset
ARRAY_METRICS = ("mig", "modularity", "irs", "unsupervised", "sap_continuous")
NETWORK_DATA = data.get("dsprites_procedural")
NETWORK_BETA_SIZES = {"num_train": 2_000, "num_eval": 1_000}
NETWORK_FACTOR_SIZES = {"num_train": 2_000, "num_eval": 1_000, "num_variance_estimate": 2_000}
ENCODER = MODELS.get("tiny_fc_vae")(num_latents=10)
ENCODER_PARAMS = ENCODER.init(jax.random.PRNGKey(0), np.zeros((1, 64, 64, 1), np.float32))


DEFAULT_EVAL = config_lib.load_config("beta_vae").eval
DEFAULT_MODEL = MODELS.get("dlib_conv_vae")(num_latents=10)
DEFAULT_PARAMS = DEFAULT_MODEL.init(jax.random.PRNGKey(0), np.zeros((1, 64, 64, 1), np.float32))
INTERVENTIONAL = ("beta_vae_score", "factor_vae_score", "fairness", "downstream")


def default_representation(images):
    """Mean codes `[B, 10]` of the default config's model (fixed random weights)."""
    return DEFAULT_MODEL.apply(DEFAULT_PARAMS, images, method="encode")[0]


def default_evaluation(name):
    """Interventional metric `name` as the suite runs it for the default config's evaluation."""
    return suite.outputs(
        [name],
        dataset=NETWORK_DATA,
        representation_fn=default_representation,
        rng=jax.random.PRNGKey(0),
        num_samples=DEFAULT_EVAL.num_samples,
        num_test_samples=DEFAULT_EVAL.num_test_samples,
    )


def network_representation(images):
    """Mean codes `[B, 10]` of `tiny_fc_vae`'s encoder (fixed random weights) on images
    `[B, 64, 64, 1]`."""
    return ENCODER.apply(ENCODER_PARAMS, images, method="encode")[0]


@jax.jit
def _render_and_encode(factors):
    return network_representation(NETWORK_DATA.observations_from_factors(factors))


def ref_network_codes(factors):
    """The reference's representation call: one batch of factors rendered and encoded, codes
    back on the host as float64."""
    return np.asarray(_render_and_encode(np.asarray(factors, np.int32)), np.float64)


def ref_network_factors(num, random_state):
    """disentanglement_lib's `sample_factors`: one `randint` per factor column."""
    sizes = NETWORK_DATA.factor_sizes
    return np.stack([random_state.randint(size, size=num) for size in sizes], axis=1)


def warm_network_reference():
    """Compiles the reference's render-and-encode call for its two batch shapes."""
    for n in (64, NETWORK_FACTOR_SIZES["num_variance_estimate"]):
        ref_network_codes(np.zeros((n, len(NETWORK_DATA.factor_sizes)), np.int32))


def representation(factors, seed):
    """Codes `[N, 10]`: 5 noisy monotone or periodic maps of the factors, 2 entangled mixtures,
    3 nuisance codes; `seed` draws the noise."""
    rng = np.random.default_rng(seed)
    n = factors.shape[0]
    v = factors / (np.array(FACTOR_SIZES) - 1.0)
    noise = rng.normal(size=(n, NUM_CODES))
    codes = np.concatenate(
        [
            v[:, :1] + 0.2 * noise[:, :1],
            np.sin(3.0 * v[:, 1:2]) + 0.1 * noise[:, 1:2],
            np.exp(v[:, 2:3]) + 0.1 * noise[:, 2:3],
            v[:, 3:5] + 0.05 * noise[:, 3:5],
            v[:, 2:3] + v[:, 3:4] + 0.1 * noise[:, 5:6],
            v[:, 0:1] - v[:, 4:5] + 0.1 * noise[:, 6:7],
            noise[:, 7:10],
        ],
        axis=1,
    )
    return codes.astype(np.float32)


def problem(seed=0):
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, s, NUM_TRAIN + NUM_TEST) for s in FACTOR_SIZES], 1)
    factors = factors.astype(np.int32)
    codes = representation(factors, seed + 1)
    return codes[:NUM_TRAIN], factors[:NUM_TRAIN], codes[NUM_TRAIN:], factors[NUM_TRAIN:]


def udr_population(seed=0):
    rng = np.random.default_rng(seed)
    sources = rng.normal(size=(UDR_POINTS, NUM_CODES))
    reps = []
    for _ in range(UDR_MODELS):
        signed = np.eye(NUM_CODES)[rng.permutation(NUM_CODES)] * rng.choice([-1, 1], NUM_CODES)
        reps.append(sources @ signed + 0.3 * rng.normal(size=sources.shape))
    return np.stack(reps).astype(np.float32), np.ones((UDR_MODELS, NUM_CODES), np.float32)


def benchmarks(codes, factors, test_codes, test_factors):
    """name -> (disentax call `codes -> scores`, reference call or None, vmappable)."""
    classes = tuple(len(np.unique(f)) for f in factors.T)
    discrete = np.round(4.0 * codes)
    width = max(len(np.unique(z)) for z in discrete.T)
    table = {
        "mig": (lambda c: metrics.mig(c, factors), lambda: ref_mig(codes, factors)),
        "modularity": (
            lambda c: metrics.modularity(c, factors),
            lambda: ref_modularity(codes, factors),
        ),
        "irs": (lambda c: metrics.irs(c, factors), lambda: ref_irs(codes, factors)),
        "unsupervised": (lambda c: metrics.unsupervised(c), lambda: ref_unsupervised(codes)),
        "sap_continuous": (
            lambda c: metrics.sap(c, factors, c, factors, continuous_factors=True),
            lambda: ref_sap_continuous(codes, factors),
        ),
        "infomec": (
            lambda c: metrics.infomec(c, factors, num_classes=classes),
            lambda: (ref_infomc(factors, codes, False), ref_infoe(factors, codes, False)),
        ),
        "infomec_discrete": (
            lambda c: metrics.infomec(
                np.round(4.0 * c) if isinstance(c, np.ndarray) else jax.numpy.round(4.0 * c),
                factors,
                discrete_latents=True,
                num_classes=classes,
                num_latent_values=width,
            ),
            lambda: (ref_infomc(factors, discrete, True), ref_infoe(factors, discrete, True)),
        ),
        # the whole metric at its default sizes: disentanglement_lib samples one point at a time
        "beta_vae_score": (
            lambda c: metrics.beta_vae_score(
                IDENTITY_DATA, identity_representation, jax.random.PRNGKey(0)
            ),
            ref_beta_vae_score,
        ),
        "factor_vae_score": (
            lambda c: metrics.factor_vae_score(
                IDENTITY_DATA, identity_representation, jax.random.PRNGKey(0)
            ),
            ref_factor_vae_score,
        ),
        "beta_vae_score_network": (
            lambda c: metrics.beta_vae_score(
                NETWORK_DATA, network_representation, jax.random.PRNGKey(0), **NETWORK_BETA_SIZES
            ),
            lambda: ref_beta_vae_score(
                **NETWORK_BETA_SIZES,
                sample_factors=ref_network_factors,
                representation_function=ref_network_codes,
                num_factors=len(NETWORK_DATA.factor_sizes),
            ),
        ),
        "factor_vae_score_network": (
            lambda c: metrics.factor_vae_score(
                NETWORK_DATA, network_representation, jax.random.PRNGKey(0), **NETWORK_FACTOR_SIZES
            ),
            lambda: ref_factor_vae_score(
                **NETWORK_FACTOR_SIZES,
                sample_factors=ref_network_factors,
                representation_function=ref_network_codes,
                num_factors=len(NETWORK_DATA.factor_sizes),
            ),
        ),
    }
    for name in INTERVENTIONAL:
        table[f"{name}_default_eval"] = (lambda c, name=name: default_evaluation(name), None)
    split = {
        "sap_discrete": lambda c, mode: metrics.sap(
            c, factors, test_codes, test_factors, mode=mode, num_classes=classes
        ),
        "dci_gbt": lambda c, mode: metrics.dci(
            c, factors, test_codes, test_factors, mode=mode, num_classes=classes
        ),
        "dci_random_forest": lambda c, mode: metrics.dci(
            c,
            factors,
            test_codes,
            test_factors,
            estimator="random_forest",
            mode=mode,
            num_classes=classes,
        ),
        "modularity_explicitness": lambda c, mode: metrics.modularity_explicitness(
            c, factors, test_codes, test_factors, mode=mode, num_classes=classes
        ),
        "downstream_logistic_regression": lambda c, mode: metrics.downstream_accuracies(
            c, factors, test_codes, test_factors, mode=mode, num_classes=classes
        ),
    }
    for name, fn in split.items():
        table[name] = (
            lambda c, fn=fn: fn(c, "jax"),
            lambda fn=fn: fn(codes, "reference"),
        )
    return table


# disentanglement_lib's own metric functions (metrics_dlib_peer.py) for these rows, and the names
# of their outputs for disentax's: disentax key -> disentanglement_lib key.
DLIB_METRICS = {
    "mig": {"mig": "discrete_mig"},
    "irs": {"irs": "IRS"},
    "unsupervised": {
        key: key
        for key in (
            "gaussian_total_correlation",
            "gaussian_wasserstein_correlation",
            "gaussian_wasserstein_correlation_norm",
            "mutual_info_score",
        )
    },
    "sap_discrete": {"sap": "SAP_score"},
    "sap_continuous": {"sap": "SAP_score"},
    "dci_gbt": {
        key: key
        for key in (
            "disentanglement",
            "completeness",
            "informativeness_train",
            "informativeness_test",
        )
    },
    "modularity_explicitness": {
        "modularity": "modularity_score",
        "explicitness_train": "explicitness_score_train",
        "explicitness_test": "explicitness_score_test",
    },
}
PEER_SCRIPT = pathlib.Path(__file__).with_name("metrics_dlib_peer.py")
SINGLE_THREAD = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


class Timed:
    """A call's result that brings its own duration (measured in another process)."""

    def __init__(self, seconds, values):
        self.seconds, self.values = seconds, values


class DlibReference:
    """disentanglement_lib's own metric functions in the peers venv, as a subprocess
    (`metrics_dlib_peer.py`, single-threaded) fed the same arrays through a `.npz` file and driven
    one call at a time, so that its calls interleave with disentax's."""

    def __init__(self, python, codes, factors, test_codes, test_factors):
        self._dir = tempfile.TemporaryDirectory(prefix="disentax-dlib-")
        arrays = pathlib.Path(self._dir.name) / "problem.npz"
        np.savez(
            arrays, codes=codes, factors=factors, test_codes=test_codes, test_factors=test_factors
        )
        env = dict(os.environ, **dict.fromkeys(SINGLE_THREAD, "1"), TF_CPP_MIN_LOG_LEVEL="3")
        env.pop("PYTHONPATH", None)
        self._process = subprocess.Popen(
            [python, str(PEER_SCRIPT), str(arrays)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        ready = self._read()
        self.metrics, self.versions = ready["metrics"], ready["versions"]

    def _read(self):
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"{PEER_SCRIPT.name} exited ({self._process.wait()}); is the peers venv built "
                "(shared/tools/setup_peers.sh)?"
            )
        return json.loads(line)

    def __call__(self, name):
        self._process.stdin.write(json.dumps({"metric": name}) + "\n")
        self._process.stdin.flush()
        reply = self._read()
        return Timed(reply["seconds"], reply["values"])

    def close(self):
        if self._process.poll() is None:
            self._process.stdin.write(json.dumps({"quit": True}) + "\n")
            self._process.stdin.close()
            self._process.wait(timeout=60)
        self._dir.cleanup()


def median_times(calls, repeats):
    """Median wall time of each zero-argument call, calls interleaved within each repeat (a call
    returning `Timed` reports its own time)."""
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            out = jax.block_until_ready(call())
            elapsed = time.perf_counter() - start
            times[name].append(out.seconds if isinstance(out, Timed) else elapsed)
    return {name: statistics.median(t) for name, t in times.items()}


def scalars(values):
    return {key: float(np.asarray(value)) for key, value in values.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--population", type=int, default=50)
    parser.add_argument("--metrics", nargs="*", default=None, help="subset (default: all)")
    parser.add_argument(
        "--population-metrics",
        nargs="*",
        default=list(ARRAY_METRICS),
        help="metrics also timed over the population (default: the closed-form ones; InfoMEC's"
        " and the classifiers' fits make 50 sequential calls take many minutes on 2 cores)",
    )
    parser.add_argument(
        "--reference",
        choices=("transcription", "dlib"),
        default="transcription",
        help="dlib: also time disentanglement_lib's own metric functions (rows "
        + ", ".join(DLIB_METRICS)
        + ") in the peers venv, single-threaded, interleaved with the other calls",
    )
    parser.add_argument(
        "--peer-python",
        default=os.environ.get("DISENTAX_PEER_PYTHON", "/tmp/peers-venv/bin/python"),
        help="the peers venv's python for --reference dlib (env DISENTAX_PEER_PYTHON; "
        "default: %(default)s, where shared/tools/setup_peers.sh builds it)",
    )
    add_out_argument(parser, "metrics")
    args = parser.parse_args()

    codes, factors, test_codes, test_factors = problem()
    table = benchmarks(codes, factors, test_codes, test_factors)
    reps, kl = udr_population()
    table["udr_lasso"] = (None, None)  # population metric: timed below
    names = args.metrics or list(table)
    population = np.stack(
        [
            representation(np.concatenate([factors, test_factors]), seed)
            for seed in range(args.population)
        ]
    )[:, :NUM_TRAIN]
    dlib = None
    if args.reference == "dlib" and any(name in DLIB_METRICS for name in names):
        dlib = DlibReference(args.peer_python, codes, factors, test_codes, test_factors)
    result = {
        "device": str(jax.devices()[0]),
        "devices": jax.device_count(),
        "num_train": NUM_TRAIN,
        "num_test": NUM_TEST,
        "repeats": args.repeats,
        "population": args.population,
        "reference": args.reference,
        "load_average": os.getloadavg(),
        "metrics": {},
    }
    if dlib is not None:
        result["dlib"] = {"versions": dlib.versions, "threads": 1, "python": args.peer_python}
    if any(name.endswith("_network") for name in names):
        warm_network_reference()
    print(
        f"{'metric':26s} {'disentax s':>11s} {'reference s':>12s} {'× faster':>9s}   "
        + (f"{'dlib s':>9s} {'× dlib':>7s}   " if dlib is not None else "")
        + f"{'vmap s':>8s} {'loop s':>8s} {'× faster':>9s}"
    )
    for name in names:
        if name == "udr_lasso":
            jax_call = lambda: metrics.udr(reps, kl)
            reference_call = lambda: ref_udr(reps, kl)
            batched = None
        else:
            fn, reference_call = table[name]
            jax_call = lambda fn=fn: fn(codes)
            batched = jax.jit(jax.vmap(fn)) if name in args.population_metrics else None
        compile_start = time.perf_counter()
        values = jax.block_until_ready(jax_call())
        first_call = time.perf_counter() - compile_start
        calls = {"jax": jax_call}
        if reference_call is not None:
            calls["reference"] = reference_call
        with_dlib = dlib is not None and name in DLIB_METRICS
        if with_dlib:
            calls["dlib"] = lambda name=name: dlib(name)
        t = median_times(calls, args.repeats)
        row = {"disentax_s": t["jax"], "first_call_s": first_call}
        if reference_call is not None:
            row.update(reference_s=t["reference"], speedup=t["reference"] / t["jax"])
        if with_dlib:
            row.update(
                dlib_s=t["dlib"],
                dlib_speedup=t["dlib"] / t["jax"],
                values=scalars(values),
                dlib_values=dlib(name).values,
                dlib_keys=DLIB_METRICS[name],
            )
        if batched is not None and name in args.population_metrics:
            jax.block_until_ready(batched(population))
            p = median_times(
                {
                    "vmap": lambda batched=batched: batched(population),
                    "loop": lambda fn=fn: [fn(c) for c in population],
                },
                args.repeats,
            )
            row.update(vmap_s=p["vmap"], loop_s=p["loop"], population_speedup=p["loop"] / p["vmap"])
        result["metrics"][name] = row
        vmap = (
            f"{row['vmap_s']:8.3f} {row['loop_s']:8.3f} {row['population_speedup']:9.2f}"
            if batched is not None
            else f"{'—':>8s} {'—':>8s} {'—':>9s}"
        )
        versus = (
            f"{row['reference_s']:12.4f} {row['speedup']:9.2f}"
            if "reference_s" in row
            else f"{'—':>12s} {'—':>9s}"
        )
        if dlib is not None:
            versus += (
                f"   {row['dlib_s']:9.4f} {row['dlib_speedup']:7.2f}"
                if with_dlib
                else f"   {'—':>9s} {'—':>7s}"
            )
        print(f"{name:26s} {row['disentax_s']:11.4f} {versus}   {vmap}", flush=True)
    if dlib is not None:
        dlib.close()
        print_values(result["metrics"])
    result["load_average_after"] = os.getloadavg()
    write_result(args.out, result)


def print_values(rows):
    """disentax's metric values beside disentanglement_lib's own on the same arrays."""
    print(
        f"\n{'metric':24s} {'value (disentax / dlib)':40s} "
        f"{'disentax':>10s} {'dlib':>10s} {'|diff|':>9s}"
    )
    for name, row in rows.items():
        for ours, theirs in row.get("dlib_keys", {}).items():
            a, b = row["values"][ours], row["dlib_values"][theirs]
            key = ours if ours == theirs else f"{ours} / {theirs}"
            print(f"{name:24s} {key:40s} {a:10.6f} {b:10.6f} {abs(a - b):9.2e}")


if __name__ == "__main__":
    main()
