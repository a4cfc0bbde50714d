#!/usr/bin/env bash
# Trains the bundled task-specific model builtin:mri-sr-light as it was trained for the release,
# then evaluates it on the held-out test series against the degraded input and the Gaussian baseline:
#
#   scripts/fetch-training-data.sh          # the scans (once)
#   scripts/train-mri-model.sh [RUN_DIR]    # MRI dataset with three views of the train volume, train (resumable), eval
#
# The MRI pairs are those of build-training-set.sh plus the train volume's coronal and sagittal
# slices (make-dataset --train-axes 0,1,2; Colin27 is isotropic, so each view is as sharp as the
# axial one); validation and test are unchanged. Fine-tuned from builtin:all-in-one-light. The
# released weights are RUN_DIR/best.safetensors of a run stopped at 3050 of these 4000 iterations
# (best validation PSNR at 1750); the model card records it. Env: ITERATIONS (4000), SEED (31).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
data="${RESTORE_RWKV_DATA:-$HOME/.cache/restore-rwkv}"
scans="$data/scans/MRI"
root="$data/dataset-mri3"
run="${1:-$data/runs/mri-sr-light}"
[ -f "$data/scans/sources.tsv" ] || "$here/fetch-training-data.sh"

[ -d "$root/MRI" ] || "$repo/restore-rwkv" make-dataset --task mri-sr --scale 4 --train "$scans/train" \
  --validation "$scans/validation" --test "$scans/test" --out "$root" --seed 1 --format nii.gz \
  --min-content 0.05 --train-axes 0,1,2

resume=()
[ -f "$run/latest.safetensors" ] && resume=(--resume)
"$repo/restore-rwkv" train --data "$root" --modalities mri --config light --iterations "${ITERATIONS:-4000}" \
  --batch 4 --patch 128 --lr 5e-4 --min-lr 1e-6 --augment --val-every 250 --val-slices 16 \
  --checkpoint-every 50 --seed "${SEED:-31}" --threads 2 --init builtin:all-in-one-light --out "$run" "${resume[@]}"

"$repo/restore-rwkv" eval --weights "$run/best.safetensors" --data "$root" --split test --modalities mri \
  --baseline gaussian --report "$run/test-report.csv"
