#!/usr/bin/env bash
# This project beside ONNX Runtime (Java API) and PyTorch eager on the same network, measured in one
# run on this machine with the same thread count (docs/performance.md, "Beside ONNX Runtime and PyTorch").
#
# PyTorch builds the network from a Python definition with the authors' signature (--model-py; the
# authors' own one needs CUDA for its Bi-WKV, so a CPU definition: one with a pluggable Bi-WKV names
# the O(T) form with --wkv), times it, and exports it to ONNX (opset 17) for each size; ONNX Runtime
# times that export and checks its output against PyTorch's; then `restore-rwkv bench` times this
# project on the same configuration and sizes. All three use initial weights for a fixed seed
# (the time does not depend on them). Needs Debian's python3-torch, python3-numpy and an optimized
# BLAS behind libblas.so.3 (libopenblas0-pthread): on the reference BLAS PyTorch's products run 10-40x slower.
#
# Usage: scripts/peers.sh --model-py FILE [--wkv FUNC] [--configs light,default] [--sizes 256,512]
#                         [--torch-sizes 128,256] [--threads 2] [--repeat 3] [--warmup 3] [--train] [--out DIR]
# --torch-sizes: the sizes PyTorch is timed at (default: all; it still runs once at the others, for the
# export check: the default model at 512² takes minutes per pass there).
# Prints a table (Markdown) with the ratios; DIR keeps every JSON line and the ONNX files.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
model_py="" wkv="" configs="light,default" sizes="256,512" torch_sizes="" threads=2 repeat=3 warmup=3 train=0 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model-py) model_py="$2"; shift 2 ;;
    --wkv) wkv="$2"; shift 2 ;;
    --configs) configs="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --torch-sizes) torch_sizes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --train) train=1; shift ;;
    --out) out="$2"; shift 2 ;;
    *) echo "peers.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$model_py" ] || { echo "peers.sh: --model-py FILE: a PyTorch definition of the model is needed" >&2; exit 2; }
/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null \
  || { echo "peers.sh: needs Debian's python3-torch and python3-numpy (apt-get install python3-torch)" >&2; exit 2; }
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  */openblas*|*/blis*|*/mkl*|*/atlas*) ;;
  *) echo "peers.sh: libblas.so.3 is the reference BLAS ($blas); apt-get install libopenblas0-pthread" >&2; exit 2 ;;
esac
# PyTorch's thread counts, for its process only (set for this project's JVM too, OpenMP's spinning
# threads would share its 2 cores with the Java kernels' pool)
py=(env OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" /usr/bin/python3)
[ -f "$repo/cli/target/restore-rwkv.jar" ] || (cd "$repo" && mvn -B -q package -DskipTests)
out="${out:-$(mktemp -d)}"; mkdir -p "$out/lib"
ort_version=1.24.1
ort_jar="$out/lib/onnxruntime-$ort_version.jar"
[ -f "$ort_jar" ] || (cd "$out" && mvn -B -q dependency:copy -Dartifact="com.microsoft.onnxruntime:onnxruntime:$ort_version" \
  -DoutputDirectory="$out/lib")
py_args=(); [ -n "$wkv" ] && py_args=(--wkv "$wkv")
[ -n "$torch_sizes" ] && py_args+=(--time-sizes "$torch_sizes")
results="$out/results.jsonl"; : > "$results"

for c in ${configs//,/ }; do
  if [ "$train" = 1 ]; then
    "${py[@]}" "$here/peers/torch_peer.py" --model-py "$model_py" "${py_args[@]}" --config "$c" --train \
      --threads "$threads" --repeat "$repeat" --warmup "$warmup" --out "$out" >> "$results"
    "$repo/restore-rwkv" bench --train --config "$c" --batch 4 --sizes 128 --repeat "$repeat" --warmup "$warmup" \
      --threads "$threads" --json "$out/ours-$c-train.json" > /dev/null
    continue
  fi
  "${py[@]}" "$here/peers/torch_peer.py" --model-py "$model_py" "${py_args[@]}" --config "$c" --sizes "$sizes" \
    --threads "$threads" --repeat "$repeat" --warmup "$warmup" --out "$out" 2> "$out/torch-$c.log" >> "$results" \
    || { cat "$out/torch-$c.log" >&2; exit 1; }
  for s in ${sizes//,/ }; do
    # a size ONNX Runtime cannot run (the default model at 512² needs about 24 GB there: the kernel's
    # OOM killer ends it on a 24 GB machine) is recorded as failed and the run goes on
    rc=0
    java -cp "$ort_jar" "$here/peers/OrtPeer.java" "$out/$c.onnx" "$out/$c-$s.in.f32" "$out/$c-$s.out.f32" \
      "$c" "$s" "$threads" "$warmup" "$repeat" >> "$results" || rc=$?
    [ "$rc" = 0 ] || printf '{"peer": "onnxruntime", "config": "%s", "mode": "infer", "size": %s, "failed": "exit %s%s"}\n' \
      "$c" "$s" "$rc" "$([ "$rc" = 137 ] && echo ', killed: out of memory?')" >> "$results"
  done
  for s in ${sizes//,/ }; do # a process per size, as ONNX Runtime (in one, a size runs slower after a smaller one)
    "$repo/restore-rwkv" bench --config "$c" --sizes "$s" --repeat "$repeat" --warmup "$warmup" --threads "$threads" \
      --json "$out/ours-$c-$s.json" > /dev/null
  done
done
/usr/bin/python3 "$here/peers/summary.py" "$out"
