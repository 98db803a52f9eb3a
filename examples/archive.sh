#!/usr/bin/env bash
# A passphrase-protected archive stream: tar | sealstream encrypt, and back.
# The passphrase comes from a file here (or type it: --passphrase prompts on the terminal).
#   bash examples/archive.sh [FOLDER]      (SEALSTREAM: the command to run, default `sealstream`)
set -euo pipefail
SEALSTREAM=${SEALSTREAM:-sealstream}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=${1:-$(dirname "$0")}
printf 'a long passphrase only I know\n' > "$work/pass"

tar -C "$src" -cf - . | $SEALSTREAM encrypt --passphrase-file "$work/pass" -o "$work/archive.tar.ss"
$SEALSTREAM inspect "$work/archive.tar.ss"
mkdir "$work/out"
$SEALSTREAM decrypt --passphrase-file "$work/pass" "$work/archive.tar.ss" | tar -C "$work/out" -xf -
diff -r --no-dereference "$src" "$work/out" && echo "archive of $src restored identically"
