#!/usr/bin/env bash
# Start a throw-away S3 server for sealstream's tests: a single-node Ceph cluster
# (1 monitor, 1 OSD, no manager) plus radosgw serving S3 over HTTPS on 127.0.0.1
# with a self-signed certificate (SAN IP:127.0.0.1, DNS:localhost), and one S3 user.
#
#   scripts/s3-server/start.sh [--install]      # --install (or SEALSTREAM_S3_INSTALL=1): run install.sh first
#   eval "$(scripts/s3-server/start.sh)"        # stdout is the env file; progress goes to stderr
#
# Writes $SEALSTREAM_S3_DIR/s3.env (default ${TMPDIR:-/tmp}/sealstream-s3/s3.env) with
# S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_DEFAULT_REGION, AWS_CA_BUNDLE.
# If a server started by this script is already running and answers, it is reused (exit 0,
# env printed again); a stale one (daemons gone) is cleaned up and replaced.
#
# Env overrides:
#   SEALSTREAM_S3_DIR         state folder (cluster/ is wiped on every fresh start, tls/ is kept)
#   SEALSTREAM_S3_PORT        HTTPS port (8443)
#   SEALSTREAM_S3_HTTP_PORT   optional extra plain-HTTP listener (unset = none)
#   SEALSTREAM_S3_MON_PORT    Ceph monitor port (3300)
#   SEALSTREAM_S3_ACCESS_KEY, SEALSTREAM_S3_SECRET_KEY
#   SEALSTREAM_S3_STORE       memstore (default) | bluestore
#   SEALSTREAM_S3_MEMSTORE_BYTES   RAM cap of the memstore OSD (6 GiB)
#   SEALSTREAM_S3_BLUESTORE_BYTES  size of the sparse bluestore file (20 GiB)
#   SEALSTREAM_S3_READY_TIMEOUT    seconds to wait for radosgw (60)
#
# Exit codes: 0 ready, 1 failed to start, 2 missing programs (run install.sh or pass --install), 4 bad usage,
#             3 install needed but impossible here (from install.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${SEALSTREAM_S3_DIR:-${TMPDIR:-/tmp}/sealstream-s3}
PORT=${SEALSTREAM_S3_PORT:-8443}
HTTP_PORT=${SEALSTREAM_S3_HTTP_PORT:-}
MON_PORT=${SEALSTREAM_S3_MON_PORT:-3300}
ACCESS_KEY=${SEALSTREAM_S3_ACCESS_KEY:-SEALSTREAMTESTKEY000}
SECRET_KEY=${SEALSTREAM_S3_SECRET_KEY:-sealstream-test-secret-0000000000000000000}
STORE=${SEALSTREAM_S3_STORE:-memstore}
# Why memstore with a 6 GiB cap by default: the tests move objects of a few hundred MiB and the
# benchmarks a 2 GiB one; RAM (24 GiB on the CI machine) is plentiful, memstore starts in ~2 s
# against ~6 s for bluestore, and it keeps disk speed out of throughput figures. Memory is
# returned when objects are deleted and garbage-collected (gc is tuned below to run every 30 s).
# Choose bluestore (a sparse file; RAM bounded by osd_memory_target) for data beyond the cap
# or on machines with little RAM.
MEMSTORE_BYTES=${SEALSTREAM_S3_MEMSTORE_BYTES:-6442450944}
BLUESTORE_BYTES=${SEALSTREAM_S3_BLUESTORE_BYTES:-21474836480}
READY_TIMEOUT=${SEALSTREAM_S3_READY_TIMEOUT:-60}
INSTALL=${SEALSTREAM_S3_INSTALL:-0}

for arg in "$@"; do
  case $arg in
    --install) INSTALL=1 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "s3-server start: unknown argument $arg (see --help)" >&2; exit 4 ;;
  esac
done
case $STORE in memstore|bluestore) ;; *) echo "s3-server start: SEALSTREAM_S3_STORE must be memstore or bluestore, got $STORE" >&2; exit 4 ;; esac

C="$DIR/cluster"        # wiped on every fresh start
CONF="$C/ceph.conf"
PIDS="$C/run/pids"
TLS="$DIR/tls"          # kept between starts, so a CA bundle path handed out earlier stays valid
ENV_FILE="$DIR/s3.env"
T0=${EPOCHREALTIME/[.,]/}
log() { local t=${EPOCHREALTIME/[.,]/}; printf '[s3-server %d.%02ds] %s\n' $(((t-T0)/1000000)) $(((t-T0)/10000%100)) "$*" >&2; }
die() {
  echo "s3-server start: $*" >&2
  [ -d "$C/log" ] && tail -n 5 "$C"/log/*.log "$C"/log/*.stdout >&2 2>/dev/null || true
  [ -f "$PIDS" ] && SEALSTREAM_S3_DIR="$DIR" "$HERE/stop.sh" >&2   # never leave half a cluster behind
  exit 1
}

if [ "$INSTALL" = 1 ]; then
  "$HERE/install.sh" >&2 || exit $?
fi
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool openssl curl uuidgen; do
  command -v "$b" >/dev/null || { echo "s3-server start: missing $b; run scripts/s3-server/install.sh (as root) or pass --install" >&2; exit 2; }
done

mkdir -p "$DIR"
# one start at a time: the test setup and a benchmark may both ask for the server
exec 9>"$DIR/lock"
flock -w 120 9 || die "another start holds $DIR/lock for more than 120 s"

ours() { # is PID $1 a daemon of this cluster? (guards against PID reuse)
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF "$CONF"
}
answers() { [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' --cacert "$TLS/cert.pem" "https://127.0.0.1:$PORT/" || true)" = 200 ]; }

if [ -f "$PIDS" ]; then
  alive=1
  while read -r _name pid; do ours "$pid" || alive=0; done < "$PIDS"
  if [ "$alive" = 1 ] && [ -s "$ENV_FILE" ] && grep -qF "S3_ENDPOINT=https://127.0.0.1:$PORT" "$ENV_FILE" && answers; then
    log "reusing the running server ($(awk '{printf "%s=%s ", $1, $2}' "$PIDS"))"
    cat "$ENV_FILE"
    exit 0
  fi
  log "a previous server is stale or on another port; stopping it"
  SEALSTREAM_S3_DIR="$DIR" "$HERE/stop.sh" >&2
fi

rm -rf "$C" "$ENV_FILE"
mkdir -p "$C"/{data/mon.a,data/osd.0,data/rgw.a,run,log,crash} "$TLS"

if [ ! -s "$TLS/cert.pem" ] || [ ! -s "$TLS/key.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>/dev/null || die "openssl could not create the certificate"
fi

FSID=$(uuidgen)
cat > "$CONF" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
# no cephx: a throw-away loopback cluster, every tool works with -c this file
auth cluster required = none
auth service required = none
auth client required = none
# radosgw defaults to ms_mon_client_mode=secure, which cannot be negotiated with auth=none:
# without this line it hangs (log: get_initial_auth_request returned -13)
ms mon client mode = crc secure
auth allow insecure global id reclaim = false
keyring = $C/keyring
run dir = $C/run
admin socket = $C/run/\$cluster-\$name.asok
log file = $C/log/\$cluster-\$name.log
mon cluster log file = $C/log/\$cluster.log
crash dir = $C/crash
# one OSD: size 1 and few PGs (rgw creates 7 pools; 7 x 32 PGs would exceed mon_max_pg_per_osd)
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool delete = true
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
# otherwise every mon command waits ~1 s for the next paxos round (cold start ~13 s instead of ~2 s)
paxos propose interval = 0.05

[mon]
mon data = $C/data/mon.\$id

[osd]
osd data = $C/data/osd.\$id
osd objectstore = $STORE
memstore device bytes = $MEMSTORE_BYTES
bluestore block create = true
bluestore block size = $BLUESTORE_BYTES
bluestore block db create = false
bluestore block wal create = false
osd memory target = 1073741824

[client.rgw.a]
rgw frontends = beast ${HTTP_PORT:+endpoint=127.0.0.1:$HTTP_PORT }ssl_endpoint=127.0.0.1:$PORT ssl_certificate=$TLS/cert.pem ssl_private_key=$TLS/key.pem
rgw data = $C/data/rgw.a
rgw thread pool size = 64
# SSE-C only over TLS (the default; stated because tests rely on it)
rgw crypt require ssl = true
# deleted objects' data is freed by gc; with memstore that data sits in RAM, so collect often
rgw gc obj min wait = 10
rgw gc processor period = 30
CONF

CEPH="ceph -c $CONF --connect-timeout 10"
start_daemon() { # name binary args...
  local name=$1; shift
  nohup "$@" -c "$CONF" -f > "$C/log/$name.stdout" 2>&1 < /dev/null 9>&- &
  echo "$name $!" >> "$PIDS"
}

log "starting ($STORE) in $C"
ceph-authtool --create-keyring "$C/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$C/run/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$C/run/monmap" --keyring "$C/keyring" || die "mon mkfs failed"
start_daemon mon.a ceph-mon -i a
for _ in $(seq 1 100); do timeout 5 $CEPH mon stat >/dev/null 2>&1 && break; sleep 0.2; done
timeout 5 $CEPH mon stat >/dev/null 2>&1 || die "mon did not come up (port $MON_PORT busy?)"
log "mon up"

OSD_UUID=$(uuidgen)
OSD_ID=$($CEPH osd new "$OSD_UUID")
[ "$OSD_ID" = 0 ] || die "unexpected osd id $OSD_ID"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" > "$C/log/osd.0.mkfs" 2>&1 || die "osd mkfs failed"
start_daemon osd.0 ceph-osd -i 0
osd_up() { grep -q '^osd.0 up' <<<"$($CEPH osd dump 2>/dev/null)"; }
for _ in $(seq 1 150); do osd_up && break; sleep 0.2; done
osd_up || die "osd.0 did not come up"
log "osd.0 up"

start_daemon rgw.a radosgw -n client.rgw.a
deadline=$(( $(date +%s) + READY_TIMEOUT ))
RGW_PID=$(awk '$1=="rgw.a"{print $2}' "$PIDS")
until answers; do
  kill -0 "$RGW_PID" 2>/dev/null || die "radosgw exited (port $PORT busy?)"
  [ "$(date +%s)" -lt "$deadline" ] || die "radosgw not ready after ${READY_TIMEOUT}s"
  sleep 0.2
done
log "radosgw answers on https://127.0.0.1:$PORT"

radosgw-admin -c "$CONF" user create --uid=sealstream --display-name="sealstream tests" \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" > "$C/run/user.json" || die "user create failed"

cat > "$ENV_FILE.tmp" <<ENV
export S3_ENDPOINT=https://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_CA_BUNDLE=$TLS/cert.pem
ENV
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "ready; env in $ENV_FILE (pids: $(awk '{printf "%s=%s ", $1, $2}' "$PIDS"))"
cat "$ENV_FILE"
