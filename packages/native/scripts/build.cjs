'use strict';
// Builds the addon from src/ with node-gyp, against the headers installed beside this node (Node's
// own N-API and OpenSSL headers) when they are there, so no download is needed.
//
//   node scripts/build.cjs             build into build/Release (fails loudly: for developers)
//   node scripts/build.cjs --prebuild  the same, then copy the binary to prebuilds/<platform>/ to commit,
//                                      with BUILD.json beside it: what it was built from and with
//                                      (test/prebuilt.test.ts fails when the sources have moved on)
//   node scripts/build.cjs --install   the package's install script: nothing to do when a binary for
//                                      this machine loads; otherwise try a build from source, and
//                                      never fail the install (core falls back to node:crypto)

const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');
const mode = process.argv[2] ?? '';

/** node-gyp: the one the package manager points at, else the one bundled with npm beside node. */
function nodeGyp() {
  const fromEnv = process.env.npm_config_node_gyp;
  if (fromEnv && existsSync(fromEnv)) return [process.execPath, fromEnv];
  const prefix = dirname(dirname(process.execPath));
  for (const lib of ['lib/node_modules', 'node_modules']) {
    const bundled = join(prefix, lib, 'npm/node_modules/node-gyp/bin/node-gyp.js');
    if (existsSync(bundled)) return [process.execPath, bundled];
  }
  return ['node-gyp'];
}

function build() {
  const args = ['rebuild'];
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
  const [cmd, ...pre] = nodeGyp();
  execFileSync(cmd, [...pre, ...args], { cwd: root, stdio: mode === '--install' ? 'pipe' : 'inherit' });
}

if (mode === '--install') {
  if (process.env.SEALSTREAM_NATIVE_SKIP_BUILD) process.exit(0);
  const native = require('../index.cjs');
  // turned off (SEALSTREAM_NATIVE=0), or a binary for this machine loads: nothing to build
  if (native.turnedOff() || native.load().addon) process.exit(0);
  try {
    build();
    console.log('@sealstream/native: built from source');
  } catch (err) {
    console.log(
      `@sealstream/native: not built (${String(err.message).split('\n')[0]}); sealstream uses node:crypto instead`,
    );
  }
  process.exit(0);
}

build();
if (mode === '--prebuild') {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `--prebuild: prebuilt binaries are made on linux-x64 (glibc), not ${process.platform}-${process.arch}`,
    );
  }
  const dir = join(root, 'prebuilds', 'linux-x64-glibc');
  mkdirSync(dir, { recursive: true });
  const target = join(dir, 'sealstream_native.node');
  copyFileSync(join(root, 'build', 'Release', 'sealstream_native.node'), target);
  execFileSync('strip', ['--strip-unneeded', target]);
  writeFileSync(join(dir, 'BUILD.json'), `${JSON.stringify(buildRecord(target), null, 2)}\n`);
  console.log(`wrote ${target} and BUILD.json`);
}

/** The files a build reads from this package: binding.gyp and everything in src/. */
function sourceFiles() {
  return ['binding.gyp', ...readdirSync(join(root, 'src')).map((f) => `src/${f}`)].sort();
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** What the prebuilt binary was made from and with: checked by test/prebuilt.test.ts. */
function buildRecord(binary) {
  const compiler = execFileSync(process.env.CC || 'cc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  return {
    binary: { file: 'sealstream_native.node', sha256: sha256(binary) },
    sources: Object.fromEntries(sourceFiles().map((f) => [f, sha256(join(root, f))])),
    compiler,
    node: process.version,
  };
}
