#!/usr/bin/env bash
# Install the Debian packages the local S3 test server needs (Ceph mon + OSD + radosgw),
# only when something is missing. Safe to run again: a no-op once everything is there.
#
# Exit codes: 0 installed or already present, 3 cannot install here (not root or no apt-get),
#             other non-zero: apt-get failed.
set -euo pipefail

PACKAGES=(ceph-mon ceph-osd radosgw ceph-common openssl curl uuid-runtime)
# the binaries start.sh calls, one per package that ships them
BINARIES=(ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool openssl curl uuidgen)

missing=()
for b in "${BINARIES[@]}"; do command -v "$b" >/dev/null 2>&1 || missing+=("$b"); done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "s3-server install: all needed programs are present"
  exit 0
fi
echo "s3-server install: missing ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "s3-server install: apt-get not found; install by hand: ${PACKAGES[*]} (Debian/Ubuntu package names)" >&2
  exit 3
fi
if [ "$(id -u)" != 0 ]; then
  echo "s3-server install: must run as root to install packages; run: sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
  exit 3
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${PACKAGES[@]}"

for b in "${BINARIES[@]}"; do
  command -v "$b" >/dev/null 2>&1 || { echo "s3-server install: $b still missing after apt-get install" >&2; exit 1; }
done
echo "s3-server install: done"
