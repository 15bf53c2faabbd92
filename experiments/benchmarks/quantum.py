"""Quantum circuits: gates/s and circuit evaluations/s of `disentax.quantum` at batch 256.

The same circuit at 5, 10 and 16 qubits: RY(x_i) encoding of a 256 × n input batch, then two
layers of trainable RX·RZ on every qubit and a CNOT chain, ⟨Z_i⟩ read out (n + 2(3n − 1) gates).
Competitors, on the same inputs and weights: (a) `disentax.quantum` — `jit(vmap(circuit_function))`
over the batch, timed after compilation; (b) a plain NumPy statevector loop written the obvious
way (per sample, per gate: `np.tensordot` of the 2×2 / 4×4 matrix with the `(2,) * n` state, then
`np.moveaxis`), timed on a subset of the batch where slow and scaled to 256; (c) PennyLane's
`default.qubit` (parameter broadcasting over the batch), run in its own venv as a subprocess
(`--pennylane-python`, default /tmp/pl_venv/bin/python; `python3 -m venv /tmp/pl_venv &&
/tmp/pl_venv/bin/pip install pennylane`) — never in the project's environment; skipped if absent.
Every competitor's ⟨Z⟩ is checked against disentax's. Prints a table and, as its last line, one
JSON object (also written to --out).

    python experiments/benchmarks/quantum.py [--qubits 5 10 16] [--batch 256] [--repeats 3]
"""

import argparse
import json
import pathlib
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from common import add_out_argument, write_result

from disentax import quantum as q

LAYERS = 2


def benchmark_circuit(n: int) -> q.Circuit:
    c = q.Circuit(n)
    for i in range(n):
        c = c.ry(i, q.Input(i))
    w = 0
    for _ in range(LAYERS):
        for i in range(n):
            c = c.rx(i, q.Weight(w)).rz(i, q.Weight(w + 1))
            w += 2
        for i in range(n - 1):
            c = c.cnot(i, i + 1)
    return c


def best_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def disentax_run(circuit, w, x, repeats):
    """(seconds per batch, compile seconds, ⟨Z⟩ `[B, n]`) of jit(vmap(circuit_function))."""
    f = jax.jit(jax.vmap(q.circuit_function(circuit), in_axes=(None, 0)))
    w, x = jnp.asarray(w, jnp.float32), jnp.asarray(x, jnp.float32)
    start = time.perf_counter()
    z = np.asarray(f(w, x))
    compile_s = time.perf_counter() - start
    seconds = best_seconds(lambda: f(w, x).block_until_ready(), repeats)
    return seconds, compile_s, z


# The obvious NumPy statevector simulator: one sample at a time, one gate at a time.


def np_rx(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -1j * s], [-1j * s, c]])


def np_ry(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -s], [s, c]], complex)


def np_rz(t):
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])


NP_CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], complex).reshape(
    2, 2, 2, 2
)


def np_apply(state, u, wires):
    k = len(wires)
    out = np.tensordot(u, state, axes=(list(range(k, 2 * k)), list(wires)))
    return np.moveaxis(out, list(range(k)), list(wires))


def numpy_sample(n, w, x):
    """⟨Z_i⟩ of one sample: the circuit gate by gate on a `(2,) * n` complex128 state."""
    state = np.zeros((2,) * n, complex)
    state[(0,) * n] = 1
    for i in range(n):
        state = np_apply(state, np_ry(x[i]), (i,))
    k = 0
    for _ in range(LAYERS):
        for i in range(n):
            state = np_apply(state, np_rx(w[k]), (i,))
            state = np_apply(state, np_rz(w[k + 1]), (i,))
            k += 2
        for i in range(n - 1):
            state = np_apply(state, NP_CNOT, (i, i + 1))
    p = np.abs(state) ** 2
    return np.array([p.sum(axis=tuple(a for a in range(n) if a != i)) @ [1, -1] for i in range(n)])


def numpy_run(n, w, x, budget_s=20.0):
    """(seconds per batch of len(x), samples timed, ⟨Z⟩ of those samples)."""
    start = time.perf_counter()
    z = [numpy_sample(n, w, x[0])]
    per_sample = time.perf_counter() - start
    count = int(min(len(x), max(1, budget_s / max(per_sample, 1e-9))))
    start = time.perf_counter()
    z = [numpy_sample(n, w, xi) for xi in x[:count]]
    seconds = (time.perf_counter() - start) / count * len(x)
    return seconds, count, np.array(z)


PENNYLANE_SCRIPT = r"""
import json, sys, time
import numpy as np
import pennylane as qml
n, layers, repeats, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = np.load(path)
w, x = data["w"], data["x"]
dev = qml.device("default.qubit", wires=n)

@qml.qnode(dev)
def circuit(w, x):
    for i in range(n):
        qml.RY(x[:, i], wires=i)
    k = 0
    for _ in range(layers):
        for i in range(n):
            qml.RX(w[k], wires=i)
            qml.RZ(w[k + 1], wires=i)
            k += 2
        for i in range(n - 1):
            qml.CNOT(wires=[i, i + 1])
    return [qml.expval(qml.PauliZ(i)) for i in range(n)]

start = time.perf_counter()
z = np.stack(circuit(w, x), axis=1)
first = time.perf_counter() - start
times = []
for _ in range(repeats):
    start = time.perf_counter()
    circuit(w, x)
    times.append(time.perf_counter() - start)
print(json.dumps({"seconds": min(times), "first_s": first, "z": z.tolist(),
                  "version": qml.__version__}))
"""


def pennylane_run(python, n, w, x, repeats, workdir):
    """(seconds per batch, ⟨Z⟩ `[B, n]`, PennyLane version) from `python` in a subprocess."""
    path = pathlib.Path(workdir) / f"pl_inputs_{n}.npz"
    np.savez(path, w=w, x=x)
    proc = subprocess.run(
        [python, "-c", PENNYLANE_SCRIPT, str(n), str(LAYERS), str(repeats), str(path)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode:
        raise RuntimeError(f"PennyLane run failed: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["seconds"], np.array(out["z"]), out["version"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--qubits", type=int, nargs="+", default=[5, 10, 16])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--numpy-budget", type=float, default=20.0, help="seconds per size")
    p.add_argument("--pennylane-python", default="/tmp/pl_venv/bin/python")
    p.add_argument("--workdir", default="/tmp")
    add_out_argument(p, "quantum")
    args = p.parse_args()
    have_pennylane = pathlib.Path(args.pennylane_python).exists()
    rows = []
    for n in args.qubits:
        circuit = benchmark_circuit(n)
        gates = len(circuit.ops)
        rng = np.random.default_rng(n)
        w = rng.uniform(-np.pi, np.pi, circuit.num_weights)
        x = rng.uniform(-np.pi, np.pi, (args.batch, n))
        ours, compile_s, z = disentax_run(circuit, w, x, args.repeats)
        np_s, np_count, np_z = numpy_run(n, w, x, args.numpy_budget)
        row = {
            "qubits": n,
            "gates": gates,
            "batch": args.batch,
            "disentax_s": ours,
            "disentax_compile_s": compile_s,
            "disentax_evals_per_s": args.batch / ours,
            "disentax_gates_per_s": args.batch * gates / ours,
            "numpy_s": np_s,
            "numpy_samples_timed": np_count,
            "numpy_evals_per_s": args.batch / np_s,
            "numpy_gates_per_s": args.batch * gates / np_s,
            "ratio_vs_numpy": np_s / ours,
            "max_abs_diff_numpy": float(np.max(np.abs(np_z - z[:np_count]))),
        }
        if have_pennylane:
            pl_s, pl_z, pl_version = pennylane_run(
                args.pennylane_python, n, w, x, args.repeats, args.workdir
            )
            row |= {
                "pennylane_version": pl_version,
                "pennylane_s": pl_s,
                "pennylane_evals_per_s": args.batch / pl_s,
                "pennylane_gates_per_s": args.batch * gates / pl_s,
                "ratio_vs_pennylane": pl_s / ours,
                "max_abs_diff_pennylane": float(np.max(np.abs(pl_z - z))),
            }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)

    print(f"backend {jax.default_backend()}, jax {jax.__version__}, batch {args.batch}")
    header = (
        f"{'qubits':>6} {'gates':>5} | {'disentax evals/s':>16} {'gates/s':>9} {'compile s':>9} | "
        f"{'numpy evals/s':>13} {'ratio':>7} | {'pennylane evals/s':>17} {'ratio':>7}"
    )
    print(header)
    for r in rows:
        pl = (
            f"{r['pennylane_evals_per_s']:>17.1f} {r['ratio_vs_pennylane']:>6.1f}x"
            if "pennylane_s" in r
            else f"{'(not installed)':>17} {'':>7}"
        )
        print(
            f"{r['qubits']:>6} {r['gates']:>5} | {r['disentax_evals_per_s']:>16.1f} "
            f"{r['disentax_gates_per_s']:>9.3g} {r['disentax_compile_s']:>9.2f} | "
            f"{r['numpy_evals_per_s']:>13.1f} {r['ratio_vs_numpy']:>6.1f}x | {pl}"
        )
    write_result(
        args.out,
        {
            "backend": jax.default_backend(),
            "jax": jax.__version__,
            "numpy": np.__version__,
            "batch": args.batch,
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
