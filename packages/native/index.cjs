'use strict';
// Loads the addon: a build from source in this folder first (it was made for this very machine),
// then the prebuilt binary for this platform. Never throws: `load()` says why it could not load,
// so that the caller falls back to node:crypto. Loading cannot kill the process for a missing
// OpenSSL symbol because the addon is linked with eager binding (-z now): the dynamic loader resolves
// every symbol at dlopen() and a missing one becomes an ordinary exception here. Nor for a binary cut
// short or made for another processor: elf.cjs looks at the file before dlopen() does.
// SEALSTREAM_NATIVE=0 turns the addon off before anything is loaded.

const { join } = require('node:path');
const { existsSync } = require('node:fs');
const { unloadableElf } = require('./elf.cjs');

const NAME = 'sealstream_native.node';
/** The environment variable that keeps the addon from loading at all. */
const OFF_ENV = 'SEALSTREAM_NATIVE';
const OFF_VALUES = new Set(['0', 'off', 'false', 'no']);

/** The prebuilt binary's folder for this platform, or undefined when none ships for it. */
function prebuiltDir() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  // The prebuilt one is linked against glibc; musl (Alpine) builds from source or falls back. glibc's
  // x86-64 dynamic loader sits at this path by the ABI; asking process.report instead cost ~6 ms of every
  // CLI start. A wrong guess is harmless: a binary that cannot link fails require() (eager binding) and
  // one that links must still pass the known-answer test below.
  return existsSync('/lib64/ld-linux-x86-64.so.2') ? 'linux-x64-glibc' : undefined;
}

/** Candidate paths, most specific first; the prebuilt one is looked for only when needed. */
function* candidates() {
  yield join(__dirname, 'build', 'Release', NAME);
  const dir = prebuiltDir();
  if (dir) yield join(__dirname, 'prebuilds', dir, NAME);
}

// RFC-style known answer (from the AES-GCM test vectors of McGrew and Viega, test case 14: 256-bit
// zero key, zero IV, one zero block): proves the symbols resolved to a working AES-256-GCM.
const KAT_CIPHERTEXT = 'cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919';

function selfTest(addon) {
  const handle = addon.gcm(new Uint8Array(32));
  const out = new Uint8Array(32);
  addon.seal(handle, new Uint8Array(12), new Uint8Array(16), out, null);
  if (Buffer.from(out).toString('hex') !== KAT_CIPHERTEXT) return 'the known-answer test failed';
  const back = new Uint8Array(16);
  if (!addon.open(handle, new Uint8Array(12), out, back, null) || back.some((b) => b !== 0))
    return 'the known-answer test did not open';
  out[0] ^= 1;
  if (addon.open(handle, new Uint8Array(12), out, back, null)) return 'a tampered known answer opened';
  return undefined;
}

let cached;

/** Whether SEALSTREAM_NATIVE turns the addon off (`0`, `off`, `false` or `no`). */
function turnedOff() {
  const value = process.env[OFF_ENV];
  return value !== undefined && OFF_VALUES.has(value.trim().toLowerCase());
}

/**
 * The addon, or why it is unavailable.
 * @returns {{ addon: object, path: string } | { addon: undefined, reason: string }}
 */
function load() {
  if (cached) return cached;
  if (turnedOff()) {
    cached = { addon: undefined, reason: `turned off by ${OFF_ENV}=${process.env[OFF_ENV]}` };
    return cached;
  }
  const reasons = [];
  for (const path of candidates()) {
    if (!existsSync(path)) continue;
    try {
      const unloadable = unloadableElf(path);
      if (unloadable) {
        reasons.push(`${path} ${unloadable}`);
        continue;
      }
      const addon = require(path);
      const failed = selfTest(addon);
      if (failed) {
        reasons.push(`${path}: ${failed}`);
        continue;
      }
      cached = { addon, path };
      return cached;
    } catch (err) {
      reasons.push(`${path}: ${err?.message ? err.message : String(err)}`);
    }
  }
  if (reasons.length === 0) {
    reasons.push(
      `no build for ${process.platform}-${process.arch}: no prebuilt binary ships for it and none was built from source (needs a C toolchain)`,
    );
  }
  cached = { addon: undefined, reason: reasons.join('; ') };
  return cached;
}

module.exports = { load, turnedOff };
