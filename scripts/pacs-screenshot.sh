#!/usr/bin/env bash
# The picture in docs/pacs.md: Orthanc Explorer's study page, taken with headless Chromium (Debian
# `chromium`), after `pacs restore` stored the restored series next to its source. A 4-slice CT
# series made from the CT_small test slice; Orthanc in a private network namespace (needs root).
# Usage: scripts/pacs-screenshot.sh [OUT.png]     (default docs/images/pacs-orthanc-study.png)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--inner" ]; then
  out="$(realpath -m "${1:-docs/images/pacs-orthanc-study.png}")"
  mkdir -p "$(dirname "$out")"
  [ -f cli/target/restore-rwkv.jar ] && [ -d cli/target/lib ] || mvn -B -ntp -q package -DskipTests
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  study="$(java -cp "cli/target/restore-rwkv.jar:cli/target/lib/*" scripts/MakeCtSeries.java \
      core/src/test/resources/io/CT_small.dcm "$work/series" 4)"
  exec unshare -n --fork bash "$0" --inner "$work" "$study" "$out"
fi
work="$2"; study="$3"; out="$4"
. scripts/pacs-orthanc.sh
orthanc_start "$work"
trap 'orthanc_stop' EXIT
orthanc_upload "$work"/series/*.dcm
./restore-rwkv pacs restore --url http://127.0.0.1:8042/dicom-web --user bench --password-file "$work/password" \
  --study "$study" --weights builtin:all-in-one-light --quiet
id="$(curl -sf -u bench:bench-password -X POST --data "$study" http://127.0.0.1:8042/tools/lookup \
  | tr -d ' \t\r\n' | grep -o '"ID":"[^"]*"' | head -1 | cut -d'"' -f4)"
# headless Chromium answers the basic-authentication challenge with the URL's credentials
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,620 --virtual-time-budget=10000 \
  --screenshot="$out" "http://bench:bench-password@127.0.0.1:8042/app/explorer.html#study?uuid=$id" 2>"$work/chromium.log" \
  || { cat "$work/chromium.log" >&2; exit 1; }
echo "wrote $out"
