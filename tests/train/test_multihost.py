"""Two processes (hosts) with one CPU device each, joined by `jax.distributed` (gloo): training,
resuming from the shared checkpoint, host-gathered ("epochs") batches and a population of two
members (one per host) give the numbers of one process with two devices; the random-forest DCI,
split over a host's own devices, gives them too."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    import numpy as np
    mode, workdir = sys.argv[1], sys.argv[2]
    if mode == "host":
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(coordinator_address=f"127.0.0.1:{sys.argv[4]}",
                                   num_processes=2, process_id=int(sys.argv[3]))
    from disentax import config as config_lib
    from disentax import metrics
    from disentax.train import train
    from disentax.train.sweep import run_sweep

    def tiny(seed=0, steps=8):  # evaluated by MIG on the mean codes only: fewer compilations
        c = config_lib.load_config("beta_vae:tiny")
        c.seed, c.num_steps = seed, steps
        c.eval.metrics, c.eval.representations = "mig", "mean"
        return c

    def run(name, steps, **fields):
        c = tiny(steps=steps)
        for key, value in fields.items():
            c[key] = value
        ran = []
        metrics = train(c, f"{workdir}/{name}", hooks=[ran.append], progress=False)
        out = {k: float(metrics[k]) for k in ("step", "train/loss", "eval/loss", "eval/mig")}
        return {**out, "steps_run": len(ran)}

    def population():
        configs = [tiny(seed) for seed in (0, 1)]
        rows = run_sweep(configs, f"{workdir}/population", strategy="vmap", progress=False)
        return [{k: float(r[k]) for k in ("train/loss", "eval/mig")} for r in rows]

    def forest_dci():
        rng = np.random.default_rng(0)
        factors = rng.integers(0, 4, (200, 2)).astype(np.int32)
        codes = (factors + 0.5 * rng.normal(size=(200, 2))).astype(np.float32)
        scores = metrics.dci(codes[:100], factors[:100], codes[100:], factors[100:],
                             estimator="random_forest", num_classes=4)
        return {k: float(scores[k]) for k in ("disentanglement", "informativeness_test")}

    out = {
        "devices": jax.device_count(),
        "local_devices": jax.local_device_count(),
        "processes": jax.process_count(),
        "iid": run("iid", 8),
        "resumed": run("iid", 12),
        "epochs": run("epochs", 8, data_sampling="epochs"),
        "population": population(),
        "forest_dci": forest_dci(),
    }
    print("RESULT " + json.dumps(out))
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def result(proc) -> dict:
    """The RESULT line of a finished script."""
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr[-3000:]
    return json.loads(next(line for line in stdout.splitlines() if line.startswith("RESULT "))[7:])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("multihost")
    port = str(free_port())

    def start(*args, env=os.environ):
        return subprocess.Popen(
            [sys.executable, "-c", SCRIPT, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    two_devices = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    # The hosts compile for themselves: on jax 0.12 a gloo step loaded from the persistent
    # compilation cache (the test session's, conftest.py) hangs in its first collective.
    uncached = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    # all three at once: their compilations overlap the hosts' waits for each other
    hosts = [start("host", str(tmp / "hosts"), str(i), port, env=uncached) for i in range(2)]
    single = start("single", str(tmp / "single"), env=two_devices)
    try:
        return [result(p) for p in hosts], result(single)
    finally:  # a failed host leaves its peer waiting for it
        for p in (*hosts, single):
            if p.poll() is None:
                p.kill()


def test_two_hosts_see_two_devices_one_each(runs):
    hosts, single = runs
    for host in hosts:
        assert (host["devices"], host["local_devices"], host["processes"]) == (2, 1, 2)
    assert (single["devices"], single["local_devices"], single["processes"]) == (2, 2, 1)


@pytest.mark.parametrize("run", ["iid", "resumed", "epochs"])
def test_two_hosts_train_as_one_process_with_two_devices(runs, run):
    hosts, single = runs
    assert hosts[0][run]["step"] == single[run]["step"] == (12 if run == "resumed" else 8)
    # the resumed runs restored step 8 from the checkpoint and ran 4 more steps
    assert hosts[0][run]["steps_run"] == single[run]["steps_run"] == (4 if run == "resumed" else 8)
    assert hosts[0][run] == hosts[1][run]  # every host ends with the same numbers
    for key in ("train/loss", "eval/loss", "eval/mig"):
        # losses are sums over 4096 pixels (~2.8e3): float32 resolves ~2.4e-4 of them
        assert hosts[0][run][key] == pytest.approx(single[run][key], rel=1e-5, abs=1e-6), key


def test_a_population_over_two_hosts_scores_as_on_one_process(runs):
    hosts, single = runs
    assert hosts[0]["population"] == hosts[1]["population"]
    for got, expected in zip(hosts[0]["population"], single["population"], strict=True):
        assert got == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert hosts[0]["population"][0] != hosts[0]["population"][1]  # two different seeds


def test_the_forest_dci_on_each_host_equals_one_process_with_two_devices(runs):
    hosts, single = runs
    assert hosts[0]["forest_dci"] == hosts[1]["forest_dci"]
    assert hosts[0]["forest_dci"] == pytest.approx(single["forest_dci"], abs=1e-6)
