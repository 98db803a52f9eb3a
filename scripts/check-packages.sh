#!/usr/bin/env bash
# Installs the packed tarballs (pnpm release:pack) with plain npm into a fresh project outside the
# repository, as a user would, and uses them from there:
#   - `sealstream --version` (local bin and npx) and an encrypt/decrypt round trip of a file;
#   - an ESM import of every subpath core and sos export, and a CommonJS require() of the libraries
#     (Node >= 20.19 runs require(esm));
#   - the native addon: on Linux x64 with glibc the prebuilt binary loads from node_modules; cut short,
#     it is refused with a reason and the library and the command work on node:crypto (it killed
#     them with SIGBUS); SEALSTREAM_NATIVE=0 turns it off; its install script succeeds either way;
#   - a TypeScript type-check of a consumer, ESM (nodenext, node16, bundler) and CommonJS (node10;
#     nodenext from TypeScript 5.8, which knows require(esm)), with the oldest supported TypeScript
#     and with the repository's own (skipLibCheck off, so our .d.ts are read);
#   - the browser entries bundled by esbuild for platform browser from node_modules (no Node
#     built-in), and the bundle sizes the READMEs state;
#   - a project that installs the core alone with --omit=optional (no addon: node:crypto, and why);
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
presigner=$(node -p "require('./packages/sos/package.json').devDependencies['@aws-sdk/s3-request-presigner']")

release="$repo/.tmp/release"
node scripts/release-pack.mjs --out .tmp/release ${1:+"$1"}
tarballs=("$release"/*.tgz)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sealstream-consumer-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cp -r scripts/package-consumer/. "$scratch/"
cd "$scratch"
npm init -y >/dev/null
npm pkg set type=module

started=$SECONDS
step() { printf -- '--- [%ss] %s\n' "$((SECONDS - started))" "$*"; }
fail() { echo "check-packages: $*" >&2; exit 1; }

step "npm install of the tarballs, TypeScript $oldest_ts and $current_ts"
# @aws-sdk/s3-request-presigner: the optional peer dependency that @sealstream/sos/presign needs
npm install --no-fund --no-audit --loglevel=error "${tarballs[@]}" "@aws-sdk/s3-request-presigner@$presigner" \
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

native_here=false
if [ "$(uname -sm)" = "Linux x86_64" ] && [ -e /lib64/ld-linux-x86-64.so.2 ]; then native_here=true; fi
addon=node_modules/@sealstream/native/prebuilds/linux-x64-glibc/sealstream_native.node
if $native_here; then
  step "the prebuilt native addon loads from node_modules; cut short, it is refused and everything runs on node:crypto"
  node backend.mjs native
  SEALSTREAM_NATIVE=0 node backend.mjs node 'turned off by SEALSTREAM_NATIVE=0'
  cp "$addon" whole.node
  head -c 4096 whole.node > "$addon"
  node backend.mjs node 'is cut short'
  ./node_modules/.bin/sealstream encrypt -q --key-file key -o sealed2.bin plain.bin
  ./node_modules/.bin/sealstream decrypt -q --key-file key -o opened2.bin sealed2.bin
  cmp plain.bin opened2.bin || fail "the round trip with a damaged addon changed the data"
  # what npm runs at install time (when it runs install scripts): never fails, builds from source or
  # says why. Only with Node's headers beside node: without them node-gyp would download them.
  if [ -e "$(dirname "$(dirname "$(command -v node)")")/include/node/node_api.h" ]; then
    (cd node_modules/@sealstream/native && SEALSTREAM_NATIVE_SKIP_BUILD='' node scripts/build.cjs --install)
    rm -rf node_modules/@sealstream/native/build
  fi
  cp whole.node "$addon"
  node backend.mjs native
else
  step "no prebuilt native addon for $(uname -sm): node:crypto"
  SEALSTREAM_NATIVE=0 node backend.mjs node 'turned off by SEALSTREAM_NATIVE=0'
fi

# Each resolution mode once with the current TypeScript; the oldest supported one (what it can
# trip over is our declarations' syntax, not the resolution) with an ESM and a CommonJS consumer.
# tsconfig.json and cjs/tsconfig.json read every declaration (skipLibCheck off: ~20 s each here);
# the other modes only resolve differently, so they skip the libraries' (and the AWS SDK's) bodies.
# CommonJS under nodenext imports ESM with require(): TypeScript >= 5.8 only (5.7 reports TS1479).
typecheck() {
  step "TypeScript consumer type-check, $1 ($(node -p "require('ts-$1/package.json').version")): ${*:2}"
  for config in "${@:2}"; do
    node "node_modules/ts-$1/bin/tsc" -p "$config" || fail "TypeScript $1: $config does not type-check"
  done
}
typecheck oldest tsconfig.json cjs/tsconfig.json
typecheck current tsconfig.json tsconfig.node16.json tsconfig.bundler.json cjs/tsconfig.json cjs/tsconfig.nodenext.json

step "browser bundles of the installed packages (esbuild, platform browser)"
node browser-bundle.mjs "$repo"

step "global install into a scratch prefix"
npm install -g --prefix "$scratch/global" --no-fund --no-audit --loglevel=error "${tarballs[@]}"
got=$("$scratch/global/bin/sealstream" --version)
[ "$got" = "$want" ] || fail "the globally installed sealstream printed '$got'"

step "the core alone, --omit=optional: no addon, node:crypto, and the reason"
core_only=$(mktemp -d "${TMPDIR:-/tmp}/sealstream-core-only-XXXXXX") # not under $scratch: its node_modules would be found
trap 'rm -rf "$scratch" "$core_only"' EXIT
cp backend.mjs "$core_only/"
(
  cd "$core_only"
  npm init -y >/dev/null
  npm pkg set type=module
  npm install --omit=optional --no-fund --no-audit --loglevel=error "$release"/sealstream-core-*.tgz
  [ ! -e node_modules/@sealstream/native ] || fail "--omit=optional installed the addon"
  node backend.mjs node '@sealstream/native is not installed'
)

echo "check-packages: the packed tarballs install and work from a plain npm project"
