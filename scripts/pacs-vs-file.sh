#!/usr/bin/env bash
# Acceptance check of docs/pacs.md: `pacs restore` of an N-slice 512x512 CT series (default 100,
# made from the bundled chest CT slice) through a local Orthanc, against file-based `restore` of the
# same files; the same model and threads; wall time of each command (JVM start included).
# Orthanc runs in a private network namespace (needs root for unshare -n) with its own storage.
# Usage: scripts/pacs-vs-file.sh [SLICES] [WEIGHTS]     (defaults: 100 builtin:all-in-one-light)
set -euo pipefail
cd "$(dirname "$0")/.."
here="$(pwd)"
if [ "${1:-}" != "--inner" ]; then
  n="${1:-100}"; weights="${2:-builtin:all-in-one-light}"
  [ -f cli/target/restore-rwkv.jar ] && [ -d cli/target/lib ] || mvn -B -ntp -q package -DskipTests
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  study="$(java -cp "cli/target/restore-rwkv.jar:cli/target/lib/*" scripts/MakeCtSeries.java \
      core/src/main/resources/org/restorerwkv/samples/chest_ct_512.dcm "$work/series" "$n")"
  exec unshare -n --fork bash "$0" --inner "$work" "$weights" "$study" "$n"
fi
work="$2"; weights="$3"; study="$4"; n="$5"
. scripts/pacs-orthanc.sh
orthanc_start "$work"
trap 'orthanc_stop' EXIT
orthanc_upload "$work"/series/*.dcm

t0=$(date +%s.%N)
./restore-rwkv restore --weights "$weights" --input "$work/series" --output "$work/file-out" --quiet >/dev/null
t1=$(date +%s.%N)
./restore-rwkv pacs restore --url http://127.0.0.1:8042/dicom-web --user bench --password-file "$work/password" \
  --study "$study" --weights "$weights" --quiet --work-dir "$work"
t2=$(date +%s.%N)
stored=$(curl -sf -u bench:bench-password "http://127.0.0.1:8042/dicom-web/studies/$study/series?includefield=00201209" \
  | tr -d ' \t\r\n' | grep -o '"00201209":{[^}]*}' | grep -o '\[[0-9]*' | tr -d '[' | tr '\n' ' ' || true)
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v n="$n" -v w="$weights" -v s="$stored" 'BEGIN {
  f = t1 - t0; p = t2 - t1
  printf "%d slices 512x512, %s; instances per series in the study: %s\n", n, w, s
  printf "file restore  %8.1f s\npacs restore  %8.1f s\nratio         %8.2f (acceptance: at most 1.20)\n", f, p, p / f }'
