#!/usr/bin/env bash
# The QLAE table's rows not yet run on a GPU, as four processes sharing one GPU (small models
# leave most of it idle): β-TCVAE + BioAE, VQ-VAE with and without weight decay, QLAE with a
# global codebook (setting `gpu`, 20,000 steps) and the three GAN rows (setting `gpu_gans`).
# Writes OUT/<group>.json (run.py's results.json, updated after each model), OUT/logs.txt
# (the four logs) and OUT/artifacts.tar (each group's codes_<model>.npz, for
# `run.py --add-dci`, and its NMI heatmaps): 6 files, refreshed every 10 s.
#
#     bash experiments/qlae/gpu_rows.sh OUT [LIMIT_S]    # each process stopped after LIMIT_S
#
# STEPS and GAN_STEPS override the settings' step counts (checks on a CPU: STEPS=3 GAN_STEPS=3
# EVAL=300); the weight decay factors stay the settings'.
set -u
OUT=${1:?usage: gpu_rows.sh OUT [LIMIT_S]}
LIMIT=${2:-540}
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false XLA_PYTHON_CLIENT_MEM_FRACTION=0.2
RUN="$(dirname "$0")/run.py"
WORK=$(mktemp -d)
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)

rows() {  # group setting models [steps]
  local extra=()
  [ -n "${4:-}" ] && extra+=(--steps "$4")
  [ -n "${EVAL:-}" ] && extra+=(--eval-samples "$EVAL")
  timeout "$LIMIT" python3 "$RUN" --setting "$2" --models "$3" --out "$WORK/$1" "${extra[@]}" \
    > "$WORK/$1.log" 2>&1
}

collect() {  # results.json is rewritten after each model: copy it as it comes
  for g in vaes vq global gans; do
    cp "$WORK/$g/results.json" "$OUT/$g.json" 2>/dev/null
  done
  tail -n +1 "$WORK"/*.log > "$OUT/logs.txt" 2>/dev/null
  (cd "$WORK" && tar -cf "$OUT/artifacts.part" --ignore-failed-read */codes_*.npz */nmi_*.png \
    && mv "$OUT/artifacts.part" "$OUT/artifacts.tar") 2>/dev/null
}

rows vaes gpu tcvae,bio_ae "${STEPS:-}" &
rows vq gpu vq_vae,vq_vae_no_wd "${STEPS:-}" &
rows global gpu qlae_global "${STEPS:-}" &
rows gans gpu_gans info_wgan,ql_info_wgan,ql_info_wgan_no_wd "${GAN_STEPS:-}" &
( while sleep 10; do collect; done ) &
COPIER=$!
wait %1 %2 %3 %4
kill "$COPIER"
collect
tail -n 4 "$WORK"/*.log
