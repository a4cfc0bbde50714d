#!/usr/bin/env bash
# Longer mutation fuzzing of every reader (ReaderFuzzTest, which the suite runs with 40 rounds per seed):
#   scripts/fuzz.sh [ROUNDS]     (default 2000 mutations per seed and kind; about 15 s per 100 rounds)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
exec nice -n 10 mvn -B -ntp -o test -pl core -Dtest=ReaderFuzzTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfuzz.rounds="${1:-2000}"
