# Sourced by the pacs-*.sh scripts: a throw-away Orthanc (Debian's orthanc + orthanc-dicomweb) with
# its storage in $work, inside the caller's private network namespace (unshare -n), so it listens
# on nothing but that namespace's loopback.
# orthanc_start WORK [AUTH=true]   sets ORTHANC_PID; user "bench", password in $WORK/password
orthanc_start() {
  local work="$1" auth="${2:-true}"
  ip link set lo up
  mkdir -p "$work/storage"
  printf 'bench-password\n' > "$work/password"
  cat > "$work/orthanc.json" <<JSON
{ "Name": "restore-rwkv-bench", "StorageDirectory": "$work/storage", "IndexDirectory": "$work/storage",
  "HttpPort": 8042, "DicomServerEnabled": false, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": $auth, "RegisteredUsers": { "bench": "bench-password" },
  "Plugins": [ "/usr/share/orthanc/plugins/libOrthancDicomWeb.so" ],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/" } }
JSON
  /usr/sbin/Orthanc "$work/orthanc.json" > "$work/orthanc.log" 2>&1 &
  ORTHANC_PID=$!
  for _ in $(seq 200); do   # poll the readiness endpoint, bounded
    curl -sf -u bench:bench-password http://127.0.0.1:8042/system >/dev/null && return 0
    sleep 0.1
  done
  echo "Orthanc did not start; see $work/orthanc.log" >&2
  return 1
}

orthanc_stop() {
  kill "$ORTHANC_PID" 2>/dev/null || true
  wait "$ORTHANC_PID" 2>/dev/null || true
}

# orthanc_upload FILE...   (Orthanc's REST upload; the restore itself goes through DICOMweb)
orthanc_upload() {
  local f
  for f in "$@"; do
    curl -sf -u bench:bench-password -X POST --data-binary @"$f" http://127.0.0.1:8042/instances >/dev/null
  done
}
