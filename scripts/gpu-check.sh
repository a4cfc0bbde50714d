#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU and CUDA 12.4 drivers (docs/reliability.md, "GPU").
# Builds with -Pcuda (downloads the CUDA libtorch), then on the reference parity case:
#   1. restore --device gpu against --device cpu and against the reference output (max |diff| <= 1e-4);
#   2. one training step (forward, L1 loss, backward) on the GPU against the reference's gradients:
#      ReferenceParityTest runs on DJL's default device, the GPU in a CUDA build; every gradient
#      within 1e-4 x max|g_ref| + 1e-10.
# Exit 0 only when all pass. Until it has passed on real hardware the GPU path is unverified.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
nvidia-smi -L
mvn -B -ntp -Pcuda package -DskipTests
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
p=core/src/test/resources/parity/tiny-32x32
for dev in cpu gpu; do
  ./restore-rwkv restore --weights "$p/weights.pth" --input "$p/input.npy" --output "$work/$dev.npy" \
    --modality none --device "$dev" --quiet
done
python3 - "$work/cpu.npy" "$work/gpu.npy" "$p/out_eval.npy" <<'PY'
import struct, sys
def load(path):
    b = open(path, "rb").read()
    n = struct.unpack("<H", b[8:10])[0]
    assert b"'<f4'" in b[10:10 + n], path + ": expected float32"
    data = b[10 + n:]
    return struct.unpack("<%df" % (len(data) // 4), data)
cpu, gpu, ref = (load(a) for a in sys.argv[1:4])
assert len(cpu) == len(gpu) == len(ref)
d_gc = max(abs(a - b) for a, b in zip(gpu, cpu))
d_gr = max(abs(a - b) for a, b in zip(gpu, ref))
print("restore --device gpu vs cpu: max |diff| %.3g; vs reference: %.3g (limit 1e-4)" % (d_gc, d_gr))
sys.exit(0 if d_gc <= 1e-4 and d_gr <= 1e-4 else 1)
PY
mvn -B -ntp -Pcuda test -pl core -Dtest=ReferenceParityTest -Dsurefire.failIfNoSpecifiedTests=false -Dparity.outputTol=1e-4
echo "gpu-check: passed"
