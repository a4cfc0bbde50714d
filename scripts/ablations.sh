#!/usr/bin/env bash
# The paper's ablations at CPU scale: token shift (Omni, Quad, Uni, none) and scan recurrence
# (Re-WKV with 2 scans against Bi-WKV with 1), every variant trained on the same data, with the
# same iterations and seeds, then evaluated on the held-out test slice and drawn as ERF panels:
#
#   scripts/ablations.sh [OUT]     (default ${RESTORE_RWKV_DATA:-$HOME/.cache/restore-rwkv}/ablations)
#
# Data: the CT scans of scripts/fetch-training-data.sh (fetched if absent), made into quarter-dose
# pairs exactly as scripts/build-training-set.sh makes its CT part (ct-lowdose --dose 0.25, seed 1):
# train = head CT (106 slices of 256x256), validation = CT_small (1 slice), test = chest CT (1 slice
# of 512x512). Model: the light configuration with each variant's token_shift and recurrence.
# Training: ITERATIONS steps of batch BATCH, random PATCH x PATCH crops, L1, Adam lr 1e-3 cosine to
# 1e-6, flips/rotations, one libtorch thread (THREADS); the weights after the last step are
# evaluated (validation runs once, at the end, so no checkpoint is picked by it).
# ERF: the trained models on ERF_SLICES evenly spaced LQ training slices (centre ERF_SIZE x ERF_SIZE), one panel per
# variant on one colour scale, for each seed.
#
# Env: ITERATIONS (120), BATCH (4), PATCH (64), SEEDS ("1 2"), THREADS (1), ERF_SLICES (8), ERF_SIZE (128),
#      VARIANTS ("omni:2 quad:2 uni:2 none:2 omni:1", token_shift:recurrence).
# Resumable: a run whose OUT/runs/NAME/best.safetensors exists is not trained again (nor evaluated,
# with its test.csv; nor the ERFs of a seed with erf-seedS.{png,txt}). Writes OUT/summary.md (the
# table of docs/ablations.md), OUT/erf-seedS.png and OUT/wall-time.txt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
data="${RESTORE_RWKV_DATA:-$HOME/.cache/restore-rwkv}"
out="${1:-$data/ablations}"
iterations="${ITERATIONS:-120}"
batch="${BATCH:-4}"
patch="${PATCH:-64}"
seeds="${SEEDS:-1 2}"
threads="${THREADS:-1}"
erf_slices="${ERF_SLICES:-8}"
erf_size="${ERF_SIZE:-128}"
variants="${VARIANTS:-omni:2 quad:2 uni:2 none:2 omni:1}"
rr="$repo/restore-rwkv"
start=$(date +%s)

scans="$data/scans"
[ -f "$scans/sources.tsv" ] || "$here/fetch-training-data.sh"
ds="$out/dataset"
mkdir -p "$out/configs" "$out/runs"
if [ ! -d "$ds/CT" ]; then
  "$rr" make-dataset --train "$scans/CT/train" --validation "$scans/CT/validation" --test "$scans/CT/test" \
    --out "$ds" --seed 1 --threads "$threads" --format nii.gz --min-content 0.05 --task ct-lowdose --dose 0.25
fi

name() { echo "${1%%:*}-r${1##*:}"; }

for v in $variants; do
  shift_kind="${v%%:*}"
  recurrence="${v##*:}"
  n="$(name "$v")"
  # the light configuration (see ModelConfig.LIGHT) with this variant's token shift and recurrence
  printf '{"inp_channels": 1, "out_channels": 1, "dim": 16, "num_blocks": [1, 1, 2, 2], "num_refinement_blocks": 1, "hidden_rate": 4, "recurrence": %s, "token_shift": "%s"}\n' \
    "$recurrence" "$shift_kind" > "$out/configs/$n.json"
  for s in $seeds; do
    run="$out/runs/$n-s$s"
    if [ ! -f "$run/best.safetensors" ]; then
      rm -rf "$run"
      t0=$(date +%s)
      "$rr" train --data "$ds" --modalities ct --config "$out/configs/$n.json" --iterations "$iterations" \
        --batch "$batch" --patch "$patch" --lr 1e-3 --min-lr 1e-6 --augment --val-every "$iterations" --val-slices 0 \
        --checkpoint-every "$iterations" --seed "$s" --threads "$threads" --out "$run" --no-progress
      echo $(( $(date +%s) - t0 )) > "$run/train-seconds.txt"
    fi
    if [ ! -f "$run/test.csv" ]; then
      "$rr" eval --weights "$run/best.safetensors" --data "$ds" --modalities ct --split test --threads "$threads" \
        --report "$run/test.csv"
    fi
  done
done

# the degraded input against the target: the floor every model should clear
for split in test validation; do
  "$rr" eval --pred "$ds/CT/$split/LQ" --target "$ds/CT/$split/HQ" --modality ct --report "$out/input-$split.csv" >/dev/null
done

# ERF panels, one figure per seed, and the radii holding 50% / 90% of the gradient mass
for s in $seeds; do
  [ -f "$out/erf-seed$s.txt" ] && [ -f "$out/erf-seed$s.png" ] && continue
  ws=(); ls=()
  for v in $variants; do
    n="$(name "$v")"
    ws+=(--weights "$out/runs/$n-s$s/best.safetensors"); ls+=("$n")
  done
  "$rr" erf "${ws[@]}" --labels "$(IFS=,; echo "${ls[*]}")" --input "$ds/CT/train/LQ" --modality ct --size "$erf_size" \
    --limit "$erf_slices" --threads "$threads" --out "$out/erf-seed$s.png" | tee "$out/erf-seed$s.txt"
done

# the table: mean and sample standard deviation over the seeds
{
  echo "| variant | token shift | recurrence | test PSNR (dB) | test SSIM | validation PSNR (dB) | validation SSIM | train L1, last 20 steps | ERF r50 (px) | ERF r90 (px) | train s/run |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for v in $variants; do
    n="$(name "$v")"
    for s in $seeds; do
      run="$out/runs/$n-s$s"
      test_metrics=$(awk -F, '$1 == "MEAN_CT" {print $2, $3}' "$run/test.csv")
      # the trainer's one validation (CT_small), after the last step: the weights evaluated on the test slice
      val_metrics=$(awk -F, '$2 == "CT" {print $3, $4}' "$run/val_log.csv" | tail -1)
      # how far training got: the mean L1 of the last 20 steps (normalized units)
      fit=$(awk -F, 'NR > 1 {l[NR] = $2; n = NR} END {for (i = (n > 21 ? n - 19 : 2); i <= n; i++) {s += l[i]; k++}; print s / k}' \
        "$run/train_log.csv")
      radii=$(awk -v n="$n" '$2 == n":" {print $3, $6}' "$out/erf-seed$s.txt")
      echo "$test_metrics $val_metrics $fit $radii $(cat "$run/train-seconds.txt" 2>/dev/null || echo nan)"
    done | awk -v n="$n" -v sh="${v%%:*}" -v r="${v##*:}" '
      { for (i = 1; i <= 8; i++) { x[i] += $i; xx[i] += $i * $i } k++ }
      function sd(i) { return k > 1 ? sqrt((xx[i] - x[i] * x[i] / k) / (k - 1)) : 0 }
      END { printf "| %s | %s | %s | %.2f ± %.2f | %.4f ± %.4f | %.2f ± %.2f | %.4f ± %.4f | %.4f ± %.4f | %.1f ± %.1f | %.1f ± %.1f | %.0f |\n",
            n, sh, r, x[1] / k, sd(1), x[2] / k, sd(2), x[3] / k, sd(3), x[4] / k, sd(4), x[5] / k, sd(5),
            x[6] / k, sd(6), x[7] / k, sd(7), x[8] / k }'
  done
  echo "| degraded input | | | $(awk -F, '$1 == "MEAN_CT" {printf "%.2f | %.4f", $2, $3}' "$out/input-test.csv") |" \
    "$(awk -F, '$1 == "MEAN_CT" {printf "%.2f | %.4f", $2, $3}' "$out/input-validation.csv") | | | | |"
} > "$out/summary.md"
cat "$out/summary.md"
elapsed=$(( $(date +%s) - start ))
printf 'wall time: %d min %d s (ITERATIONS=%s BATCH=%s PATCH=%s SEEDS="%s" THREADS=%s)\n' \
  $((elapsed / 60)) $((elapsed % 60)) "$iterations" "$batch" "$patch" "$seeds" "$threads" | tee "$out/wall-time.txt"
