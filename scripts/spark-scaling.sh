#!/usr/bin/env bash
# Throughput of the Spark job (docs/spark.md) on a standalone cluster on this machine: a Master and
# W Workers of one core each on 127.0.0.1, started from Spark's own classes in spark/target, for
# W = 1 and 2; the job restores a manifest of 40 single-slice CT scans (copies of the 128 x 128 test slice
# CT_small.dcm, --modality auto reads CT) with the built-in light model, one thread per task.
# Prints, per W: the job's wall time and slices/s (from its summary line: executor start and model
# loading included) and the median seconds per scan from the results table (steady state, one slice).
#
# Usage: scripts/spark-scaling.sh [WORKDIR]   (default: a fresh temporary folder, removed at the end)
# Env: WORKERS ("1 2"), COPIES (40).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
target="$repo/spark/target"
[ -f "$target/restore-rwkv-spark.jar" ] && [ -f "$repo/cli/target/restore-rwkv.jar" ] \
  || (cd "$repo" && mvn -B -q package -DskipTests)
work="${1:-$(mktemp -d)}"
copies="${COPIES:-40}"
cp="$target/restore-rwkv-spark.jar:$target/lib/*:$target/spark-lib/*"
# the JDK packages Spark opens on Java 17, from the job jar's manifest (72-column lines unfolded)
opens=$(unzip -p "$target/restore-rwkv-spark.jar" META-INF/MANIFEST.MF | tr -d '\r' | sed ':a;N;$!ba;s/\n //g' \
  | sed -n 's/^Add-Opens: //p')
jvm=(-Xmx512m); for o in $opens; do jvm+=("--add-opens=$o=ALL-UNNAMED"); done
mkdir -p "$work/in" "$work/spark-home/jars"
# a manifest: a folder of single DICOM files would be walked as one series
for i in $(seq -w 1 "$copies"); do cp "$repo/core/src/test/resources/io/CT_small.dcm" "$work/in/ct$i.dcm"; done
(cd "$work" && ls in/*.dcm) > "$work/manifest.txt"

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }
trap 'stop; [ -n "${1:-}" ] || rm -rf "$work"' EXIT
await() { # log file, pattern: bounded wait for a daemon's line
  for _ in $(seq 1 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
  echo "spark-scaling: no '$2' in $1" >&2; exit 1
}

for w in ${WORKERS:-1 2}; do
  log="$work/w$w"; mkdir -p "$log"
  SPARK_LOCAL_IP=127.0.0.1 java "${jvm[@]}" -cp "$cp" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port 0 --webui-port 0 > "$log/master.log" 2>&1 & pids+=($!)
  await "$log/master.log" "Starting Spark master at"
  master=$(grep -o 'spark://127.0.0.1:[0-9]*' "$log/master.log" | head -1)
  for i in $(seq 1 "$w"); do
    SPARK_HOME="$work/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1 java "${jvm[@]}" -cp "$cp" \
      org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory 2g --webui-port 0 \
      --work-dir "$log/worker$i" "$master" > "$log/worker$i.log" 2>&1 & pids+=($!)
    await "$log/worker$i.log" "Successfully registered with master"
  done
  SPARK_LOCAL_IP=127.0.0.1 "$repo/restore-rwkv" spark --master "$master" --executor-memory 1g \
    --conf spark.cores.max="$w" --conf spark.driver.host=127.0.0.1 \
    --conf "spark.executor.extraClassPath=$cp" \
    --conf "spark.executor.extraJavaOptions=--add-modules jdk.incubator.vector -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1" \
    --manifest "$work/manifest.txt" --output "$work/out$w" --results "$work/out$w.csv" > "$log/job.log" 2>&1 || true
  summary=$(grep '^restore-rwkv spark: [0-9]* scan' "$log/job.log") || { tail -20 "$log/job.log" >&2; exit 1; }
  median=$(tail -n +2 "$work/out$w.csv" | awk -F, '$3=="restored"{print $5}' | sort -n \
    | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  echo "workers=$w $summary"
  echo "workers=$w median seconds per scan (1 slice, 128x128): $median"
  stop
done
