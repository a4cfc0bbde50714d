#!/usr/bin/env bash
# Hostile-input campaign (docs/reliability.md): about 800 corrupt and hostile inputs across every
# reader and command, each run through ./restore-rwkv with a 30 s timeout and its peak RSS measured;
# prints a table and exits non-zero when fewer than 99.5% hold.
#   scripts/hostile-inputs.sh [WORKDIR [NAME-REGEX]]      (needs python3, GNU time, setpriv; run as root
#                                                          for the permission cases, which switch to nobody)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$here/cli/target/restore-rwkv.jar" ]; then
  (cd "$here" && mvn -B -ntp -q package -DskipTests)
fi
exec nice -n 10 python3 "$here/scripts/hostile_inputs.py" "$@"
