#!/usr/bin/env bash
# What the QLAE tables still need from a GPU, as five processes sharing one GPU (small models
# leave most of it idle): the four rows of setting `gpu` that ran on an H200 without saving
# their codes (QLAE, AE, QLAE w/o weight decay, β-VAE: rerun for their DCI), two per process,
# and the three GAN rows, one per process, at 8,000 generator steps (40,000 critic updates,
# four times what this CPU ran, a fifth of the paper's) with weight decay × 5 for the paper's
# lr·λ·T. The other five rows of `gpu` ran on the CPU (NOTES.md "On this CPU").
# Writes OUT/<group>.json (run.py's results.json, updated after each model), OUT/logs.txt
# (the five logs) and OUT/artifacts.tar (each group's codes_<model>.npz, for
# `run.py --add-dci`, and its NMI heatmaps): 7 files, refreshed every 10 s.
#
#     bash experiments/p02_qlae/gpu_rows.sh OUT [LIMIT_S]    # each process stopped after LIMIT_S
#
# STEPS and GAN_STEPS override the step counts (checks on a CPU: STEPS=3 GAN_STEPS=3 EVAL=300);
# the weight decay factors stay as above.
set -u
OUT=${1:?usage: gpu_rows.sh OUT [LIMIT_S]}
LIMIT=${2:-540}
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false XLA_PYTHON_CLIENT_MEM_FRACTION=0.15
WORK=$(mktemp -d)
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)

rows() {  # group setting models [steps] [weight decay scale]
  local extra=()
  [ -n "${4:-}" ] && extra+=(--steps "$4")
  [ -n "${5:-}" ] && extra+=(--weight-decay-scale "$5")
  [ -n "${EVAL:-}" ] && extra+=(--eval-samples "$EVAL")
  timeout "$LIMIT" python3 -m experiments.p02_qlae.run --setting "$2" --models "$3" \
    --out "$WORK/$1" "${extra[@]}" \
    > "$WORK/$1.log" 2>&1
}

collect() {  # results.json is rewritten after each model: copy it as it comes
  for g in ae_a ae_b gan_a gan_b gan_c; do
    cp "$WORK/$g/results.json" "$OUT/$g.json" 2>/dev/null
  done
  tail -n +1 "$WORK"/*.log > "$OUT/logs.txt" 2>/dev/null
  (cd "$WORK" && tar -cf "$OUT/artifacts.part" --ignore-failed-read */codes_*.npz */nmi_*.png \
    && mv "$OUT/artifacts.part" "$OUT/artifacts.tar") 2>/dev/null
}

rows ae_a gpu qlae,ae "${STEPS:-}" &
rows ae_b gpu qlae_no_wd,vae "${STEPS:-}" &
rows gan_a gpu_gans info_wgan "${GAN_STEPS:-8000}" 5 &
rows gan_b gpu_gans ql_info_wgan "${GAN_STEPS:-8000}" 5 &
rows gan_c gpu_gans ql_info_wgan_no_wd "${GAN_STEPS:-8000}" 5 &
( while sleep 10; do collect; done ) &
COPIER=$!
wait %1 %2 %3 %4 %5
kill "$COPIER"
collect
tail -n 4 "$WORK"/*.log
