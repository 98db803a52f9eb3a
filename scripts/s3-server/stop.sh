#!/usr/bin/env bash
# Stop the server started by start.sh, by the PIDs it recorded (never by process name).
# One daemon at a time, newest first (radosgw, osd, mon): radosgw stalls ~5 s on shutdown
# when the cluster vanishes under it. SIGTERM, up to 5 s, then SIGKILL.
# Nothing needs flushing: the cluster is throw-away. SEALSTREAM_S3_WIPE=1 also deletes cluster/.
set -uo pipefail
# Arguments are refused rather than ignored: `stop.sh --help` once stopped a server others were using.
for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "s3-server stop: unknown argument $arg (see --help); nothing was stopped" >&2; exit 4 ;;
  esac
done
DIR=${SEALSTREAM_S3_DIR:-${TMPDIR:-/tmp}/sealstream-s3}
C="$DIR/cluster"
PIDS="$C/run/pids"
if [ ! -f "$PIDS" ]; then
  echo "s3-server stop: nothing to stop ($PIDS missing)"
  exit 0
fi

ours() { # is PID $1 still the daemon we started? (guards against PID reuse)
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF "$C/ceph.conf"
}
while read -r name pid; do
  if ! ours "$pid"; then echo "s3-server stop: $name ($pid) was not running"; continue; fi
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do ours "$pid" || break; sleep 0.05; done   # a zombie has no cmdline
  if ours "$pid"; then
    echo "s3-server stop: $name ($pid) ignored SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
  fi
  echo "s3-server stop: stopped $name ($pid)"
done < <(tac "$PIDS")
rm -f "$PIDS" "$DIR/s3.env"
[ "${SEALSTREAM_S3_WIPE:-0}" = 1 ] && rm -rf "$C"
exit 0
