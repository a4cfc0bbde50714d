#!/usr/bin/env bash
# Regenerates core/src/test/resources/io/codec/: compressed DICOM test files made with GDCM from the
# permissively licensed files in core/src/test/resources/io (see its README.md), and the reference
# values from GDCM's own decode (gdcmconv --raw). Needs Debian's libgdcm-tools (gdcmconv 3.0.21),
# python3-pydicom 2.3.1 and python3-numpy (only to derive 8/12-bit and multi-frame sources, to wrap
# GDCM's fragments with offset tables, and to save the .npy references). Tests never run it.
set -euo pipefail
cd "$(dirname "$0")/../core/src/test/resources/io"
out=codec
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

# sources: MR_small (16-bit signed), CT_small (16-bit signed, rescaled), and derived from MR_small:
# an 8-bit one (values >> 4) and a 4-frame one (the image, flipped, transposed, inverted)
"$py" - "$tmp" <<'PY'
import sys, numpy as np, pydicom
from pydicom.uid import ExplicitVRLittleEndian
tmp = sys.argv[1]
def save(ds, arr, name, bits, signed):
    ds.BitsAllocated = 8 if bits == 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    dt = {(8, False): np.uint8, (16, False): np.uint16, (16, True): np.int16}[(ds.BitsAllocated, signed)]
    ds.PixelData = arr.astype(dt).tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.is_little_endian = True; ds.is_implicit_VR = False
    ds.save_as(f"{tmp}/{name}.dcm", write_like_original=False)
mr = pydicom.dcmread("MR_small.dcm")
a = mr.pixel_array.astype(np.int32)                        # 127..2145
save(pydicom.dcmread("MR_small.dcm"), a >> 4, "mr8", 8, False)
mf = pydicom.dcmread("MR_small.dcm")
frames = np.stack([a, a[::-1, :], a[:, ::-1].T, 2200 - a])
mf.NumberOfFrames = 4
mf.Rows, mf.Columns = a.shape
save(mf, frames, "mr16mf", 16, True)
PY
cp MR_small.dcm "$tmp/mr16.dcm"
cp CT_small.dcm "$tmp/ct16.dcm"

conv() { gdcmconv --quiet "$@" 2> >(grep -v -E "lossy compression|degrade the quality|impact professional|understand the risk|very experimental" >&2); }
conv --jpeg --lossy -q 90 "$tmp/mr8.dcm"   "$out/MR8_jpeg_baseline.dcm"      # 1.2.840.10008.1.2.4.50
conv --jpeg               "$tmp/mr8.dcm"   "$out/MR8_jpeg_lossless.dcm"      # 1.2.840.10008.1.2.4.70
conv --jpeg               "$tmp/mr16.dcm"  "$out/MR_jpeg_lossless.dcm"       # 1.2.840.10008.1.2.4.70
conv --jpeg               "$tmp/ct16.dcm"  "$out/CT_jpeg_lossless.dcm"       # 1.2.840.10008.1.2.4.70
conv --j2k                "$tmp/ct16.dcm"  "$out/CT_j2k_lossless.dcm"        # 1.2.840.10008.1.2.4.90
conv --j2k --lossy -r 10  "$tmp/mr16.dcm"  "$out/MR_j2k_lossy.dcm"         # 1.2.840.10008.1.2.4.91, ratio 10
conv --jpeg               "$tmp/mr16mf.dcm" "$tmp/mf_jpeg.dcm"
conv --j2k                "$tmp/mr16mf.dcm" "$out/MF_j2k_lossless.dcm"       # 4 frames, one fragment each
conv --split 1000 "$out/MR_jpeg_lossless.dcm" "$out/MR_jpeg_lossless_split.dcm"  # one frame in 5 fragments

# the same JPEG lossless frames with a basic offset table (2 fragments per frame), and with an
# extended offset table (one fragment per frame)
"$py" - "$tmp/mf_jpeg.dcm" "$out" <<'PY'
import sys, pydicom
from pydicom.encaps import generate_pixel_data_frame, encapsulate, encapsulate_extended
src, out = sys.argv[1], sys.argv[2]
ds = pydicom.dcmread(src)
frames = list(generate_pixel_data_frame(ds.PixelData, int(ds.NumberOfFrames)))
ds.PixelData = encapsulate(frames, fragments_per_frame=2, has_bot=True)  # 2 fragments per frame
ds.save_as(f"{out}/MF_jpeg_lossless_bot.dcm")
ds = pydicom.dcmread(src)
ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = encapsulate_extended(frames)
ds.save_as(f"{out}/MF_jpeg_lossless_eot.dcm")
PY

# references: GDCM's decode of each file, modality LUT applied, float32 (frames, rows, cols)
for f in "$out"/*.dcm; do
  conv --raw "$f" "$tmp/raw.dcm"
  "$py" - "$tmp/raw.dcm" "$out/$(basename "$f" .dcm).gdcm.npy" <<'PY'
import sys, numpy as np, pydicom
from pydicom.pixel_data_handlers.util import apply_modality_lut
ds = pydicom.dcmread(sys.argv[1])
a = apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
np.save(sys.argv[2], a.reshape((-1,) + a.shape[-2:]))
PY
done
for f in "$out"/*.dcm; do printf '%s %s\n' "$(basename "$f")" "$(gdcminfo "$f" 2>/dev/null | sed -n 's/^TransferSyntax is \([0-9.]*\).*/\1/p')"; done
