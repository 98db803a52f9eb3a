#!/usr/bin/env bash
# Installs the packed tarballs (pnpm release:pack) with plain npm into a fresh project outside the
# repository, as a user would, and uses them from there:
#   - `sealstream --version` (local bin and npx) and an encrypt/decrypt round trip of a file;
#   - an ESM import and a CommonJS require() of the libraries (Node >= 20.19 runs require(esm));
#   - a TypeScript type-check of a consumer, ESM (nodenext) and CommonJS (node10), with the oldest
#     supported TypeScript and with the repository's own (skipLibCheck off, so our .d.ts are read);
#   - a global install (`npm install -g ./*.tgz`) into a scratch prefix.
# Only third-party dependencies (AWS SDK, commander, noble, ...) come from the npm registry.
# Usage: scripts/check-packages.sh [--no-build]   (CI runs it after `pnpm build`)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# The oldest TypeScript the published types support: TS 5.7 made typed arrays generic
# (Uint8Array<ArrayBufferLike>), and declarations emitted by the TS we build with name those types;
# TS <= 5.6 stops at them with "TS2315: Type 'Uint8Array' is not generic". Keep README in step.
oldest_ts=5.7.3
current_ts=$(node -p "require('./package.json').devDependencies.typescript")

release="$repo/.tmp/release"
node scripts/release-pack.mjs --out .tmp/release ${1:+"$1"}
tarballs=("$release"/*.tgz)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sealstream-consumer-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cp -r scripts/package-consumer/. "$scratch/"
cd "$scratch"
npm init -y >/dev/null
npm pkg set type=module

step() { printf -- '--- %s\n' "$*"; }
fail() { echo "check-packages: $*" >&2; exit 1; }

step "npm install of the tarballs, TypeScript $oldest_ts and $current_ts"
npm install --no-fund --no-audit --loglevel=error "${tarballs[@]}" \
  "ts-oldest@npm:typescript@$oldest_ts" "ts-current@npm:typescript@$current_ts" "@types/node@20"
if grep -rq '"workspace:' node_modules/@sealstream/*/package.json; then fail "a workspace: range was installed"; fi

step "sealstream --version"
want=$(node -p "require('$repo/packages/cli/package.json').version")
got=$(./node_modules/.bin/sealstream --version)
[ "$got" = "$want" ] || fail "sealstream --version printed '$got', expected '$want'"
got=$(npx --no-install sealstream --version)
[ "$got" = "$want" ] || fail "npx sealstream --version printed '$got', expected '$want'"

step "encrypt/decrypt round trip with the installed command"
head -c 1000003 /dev/urandom > plain.bin
./node_modules/.bin/sealstream keygen -q -o key
./node_modules/.bin/sealstream encrypt -q --key-file key -o sealed.bin plain.bin
[ "$(head -c 10 sealed.bin)" = sealstream ] || fail "encrypt did not write a sealstream file"
./node_modules/.bin/sealstream decrypt -q --key-file key -o opened.bin sealed.bin
cmp plain.bin opened.bin || fail "the round trip changed the data"
./node_modules/.bin/sealstream keygen -q -o other
if ./node_modules/.bin/sealstream decrypt -q --key-file other -o wrong.bin sealed.bin 2>/dev/null; then
  fail "decrypt with the wrong key succeeded"
fi
[ ! -e wrong.bin ] || fail "a failed decrypt left wrong.bin"

step "ESM import and CommonJS require"
node import.mjs
node cjs/require.cjs

for ts in oldest current; do
  step "TypeScript consumer type-check, $ts: $(node -p "require('ts-$ts/package.json').version")"
  node "node_modules/ts-$ts/bin/tsc" -p tsconfig.json
  node "node_modules/ts-$ts/bin/tsc" -p cjs/tsconfig.json
done

step "global install into a scratch prefix"
npm install -g --prefix "$scratch/global" --no-fund --no-audit --loglevel=error "${tarballs[@]}"
got=$("$scratch/global/bin/sealstream" --version)
[ "$got" = "$want" ] || fail "the globally installed sealstream printed '$got'"

echo "check-packages: the packed tarballs install and work from a plain npm project"
