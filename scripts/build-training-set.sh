#!/usr/bin/env bash
# Builds the paired training set from the scans fetched by fetch-training-data.sh, split by volume
# (each scan folder is one split), with ./restore-rwkv make-dataset:
#
#   CT   ct-lowdose   --dose 0.25                (insert-noise: the scans are real full-dose CT)
#   MRI  mri-sr       --scale 4
#   PET  pet-lowcount --fraction 0.25 --pet-from-t1  (HQ: FDG-like phantom of each T1)
#
# into ROOT/{CT,MRI,PET}/{train,validation,test}/{LQ,HQ}/ (.nii.gz) with ROOT/manifest-*.json and
# ROOT/sources.tsv (package, version, sha256, licence of every source). Slices at the volume ends
# with under 5% foreground in the HQ are left out (--min-content 0.05).
#
# Usage: scripts/build-training-set.sh [ROOT]   (default ${RESTORE_RWKV_DATA:-$HOME/.cache/restore-rwkv}/dataset)
# Refuses to overwrite an existing ROOT/{CT,MRI,PET}; remove it to rebuild. Env: SEED (1), THREADS (nproc).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
data="${RESTORE_RWKV_DATA:-$HOME/.cache/restore-rwkv}"
root="${1:-$data/dataset}"
scans="$data/scans"
seed="${SEED:-1}"
threads="${THREADS:-$(nproc)}"
[ -f "$scans/sources.tsv" ] || "$here/fetch-training-data.sh"

make() { # modality folder of scans, then make-dataset options
  local src="$scans/$1"; shift
  "$repo/restore-rwkv" make-dataset --train "$src/train" --validation "$src/validation" --test "$src/test" \
    --out "$root" --seed "$seed" --threads "$threads" --format nii.gz --min-content 0.05 "$@"
}
make CT  --task ct-lowdose --dose 0.25
make MRI --task mri-sr --scale 4
make MRI --task pet-lowcount --fraction 0.25 --pet-from-t1
cp "$scans/sources.tsv" "$root/sources.tsv.tmp" && mv "$root/sources.tsv.tmp" "$root/sources.tsv"
echo "build-training-set: dataset in $root" >&2
