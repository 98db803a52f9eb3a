/**
 * The addon itself: the prebuilt binary loads and works, it is linked with eager binding, a missing
 * OpenSSL symbol is an exception the loader turns into a reason (never a crash), and misuse throws.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const prebuilt = join(root, 'prebuilds/linux-x64-glibc/sealstream_native.node');
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';
const scratch = mkdtempSync(join(tmpdir(), 'sealstream-native-'));

/** 64 KiB whose first byte starts a page: V8 allocates a WebAssembly memory in whole pages. */
function pageAlignedMemory(): ArrayBuffer {
  // not in the compiler's lib here (no DOM, no WebAssembly types), but in every Node
  const wasm = (
    globalThis as unknown as {
      WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };
    }
  ).WebAssembly;
  return new wasm.Memory({ initial: 1 }).buffer;
}
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** DT_FLAGS has DF_BIND_NOW, or DT_FLAGS_1 has DF_1_NOW: read from the ELF64 dynamic section. */
function bindsNow(elf: Buffer): boolean {
  expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(elf[4]).toBe(2); // 64-bit
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (elf.readUInt32LE(sh + 4) !== 6) continue; // SHT_DYNAMIC
    const offset = Number(elf.readBigUInt64LE(sh + 0x18));
    const size = Number(elf.readBigUInt64LE(sh + 0x20));
    for (let at = offset; at < offset + size; at += 16) {
      const tag = elf.readBigUInt64LE(at);
      const value = elf.readBigUInt64LE(at + 8);
      if (tag === 30n && (value & 0x8n) !== 0n) return true; // DT_FLAGS, DF_BIND_NOW
      if (tag === 0x6ffffffbn && (value & 0x1n) !== 0n) return true; // DT_FLAGS_1, DF_1_NOW
    }
  }
  return false;
}

/** A copy of the prebuilt package whose binary asks for an OpenSSL symbol that does not exist. */
function brokenCopy(): string {
  const dir = join(scratch, 'broken');
  mkdirSync(join(dir, 'prebuilds/linux-x64-glibc'), { recursive: true });
  for (const file of ['index.cjs', 'elf.cjs']) copyFileSync(join(root, file), join(dir, file));
  const elf = readFileSync(prebuilt);
  const name = Buffer.from('EVP_CIPHER_CTX_ctrl\0');
  const at = elf.indexOf(name);
  expect(at).toBeGreaterThan(0);
  elf.write('EVP_CIPHER_CTX_ctrX', at, 'latin1'); // same length: only the name changes
  writeFileSync(join(dir, 'prebuilds/linux-x64-glibc/sealstream_native.node'), elf);
  return dir;
}

describe.runIf(onLinuxX64)('the prebuilt linux-x64 binary', () => {
  test('is linked with eager binding (-z now)', () => {
    expect(bindsNow(readFileSync(prebuilt))).toBe(true);
  });

  test('loads, and seals and opens like node:crypto', () => {
    const addon = require(prebuilt);
    const { createCipheriv } = require('node:crypto');
    const key = Buffer.alloc(32, 3);
    const nonce = Buffer.alloc(12, 5);
    const plain = Buffer.alloc(1000, 7);
    const out = new Uint8Array(1016);
    addon.seal(addon.gcm(key), nonce, plain, out, null);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    expect(Buffer.from(out)).toEqual(Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]));
  });

  test('has pageOffset (the file loops place their reads with it)', () => {
    const addon = require(prebuilt);
    expect(addon.pageOffset(new Uint8Array(pageAlignedMemory(), 16))).toBe(16);
  });

  test('with a missing OpenSSL symbol, loading throws an ordinary error: the process lives on', () => {
    const dir = brokenCopy();
    const script = `
      try { require(${JSON.stringify(join(dir, 'prebuilds/linux-x64-glibc/sealstream_native.node'))}); console.log('loaded'); }
      catch (e) { console.log('caught: ' + e.message); }
      const r = require(${JSON.stringify(join(dir, 'index.cjs'))}).load();
      console.log('load(): ' + (r.addon ? 'addon' : r.reason));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(out).toMatch(/^caught: .*undefined symbol: EVP_CIPHER_CTX_ctrX/m);
    expect(out).toMatch(/^load\(\): .*undefined symbol: EVP_CIPHER_CTX_ctrX/m);
  });
});

describe('the loader', () => {
  test('loads the addon here and says from where', () => {
    const { load } = require(join(root, 'index.cjs'));
    const result = load();
    expect(result.reason).toBeUndefined();
    expect(result.path).toMatch(/sealstream_native\.node$/);
  });

  test('on a platform with no prebuilt binary and no build, the reason says so', () => {
    const dir = join(scratch, 'empty');
    mkdirSync(dir, { recursive: true });
    for (const file of ['index.cjs', 'elf.cjs']) copyFileSync(join(root, file), join(dir, file));
    const r = require(join(dir, 'index.cjs')).load();
    expect(r.addon).toBeUndefined();
    expect(r.reason).toMatch(/no prebuilt binary|no build for/);
  });
});

describe('misuse throws, it never corrupts memory', () => {
  const { addon } = require(join(root, 'index.cjs')).load();
  const handle = addon.gcm(new Uint8Array(32));

  test('bad keys, handles, nonces and buffers', () => {
    expect(() => addon.gcm(new Uint8Array(31))).toThrow(RangeError);
    expect(() => addon.gcm('k'.repeat(32))).toThrow(TypeError);
    expect(() => addon.seal({}, new Uint8Array(12), new Uint8Array(1), new Uint8Array(17), null)).toThrow(
      TypeError,
    );
    expect(() => addon.seal(handle, new Uint8Array(11), new Uint8Array(1), new Uint8Array(17), null)).toThrow(
      RangeError,
    );
    expect(() => addon.seal(handle, new Uint8Array(12), new Uint8Array(2), new Uint8Array(17), null)).toThrow(
      RangeError,
    );
    expect(() =>
      addon.seal(handle, new Uint8Array(12), new Uint16Array(1), new Uint8Array(17), null),
    ).toThrow(TypeError);
    expect(() =>
      addon.sealRun(handle, new Uint8Array(12), new Uint8Array(10), new Uint8Array(26), 0),
    ).toThrow(RangeError);
  });

  test('input and output that overlap are refused', () => {
    const buf = new Uint8Array(100);
    expect(() => addon.seal(handle, new Uint8Array(12), buf.subarray(0, 50), buf.subarray(40), null)).toThrow(
      /overlap/,
    );
    expect(() =>
      addon.openRun(handle, new Uint8Array(12), buf.subarray(0, 50), buf.subarray(10, 60), 50),
    ).toThrow(/overlap/);
  });

  test('open of fewer than 16 bytes is a failed authentication, not an error', () => {
    expect(addon.open(handle, new Uint8Array(12), new Uint8Array(15), new Uint8Array(0), null)).toBe(false);
  });
});

describe('pageOffset: where a buffer starts in its 4 KiB page', () => {
  const { addon } = require(join(root, 'index.cjs')).load();

  test('is the address modulo 4096: a view k bytes in is k further, wrapping at the page', () => {
    const buf = new Uint8Array(3 * 4096);
    const base = addon.pageOffset(buf);
    expect(base).toBeGreaterThanOrEqual(0);
    expect(base).toBeLessThan(4096);
    for (const k of [1, 15, 16, 17, 4095, 4096, 4097, 8191]) {
      expect(addon.pageOffset(buf.subarray(k))).toBe((base + k) % 4096);
    }
  });

  test('a WebAssembly memory starts on a page: 0', () => {
    const memory = pageAlignedMemory();
    expect(addon.pageOffset(new Uint8Array(memory))).toBe(0);
    expect(addon.pageOffset(new Uint8Array(memory, 100))).toBe(100);
  });

  test('works on shared memory (the writer thread ring), is 0 for an empty view, refuses the rest', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(8192));
    expect(addon.pageOffset(shared.subarray(1))).toBe((addon.pageOffset(shared) + 1) % 4096);
    expect(addon.pageOffset(new Uint8Array(0))).toBe(0);
    expect(() => addon.pageOffset('bytes')).toThrow(TypeError);
    expect(() => addon.pageOffset(new Uint16Array(4))).toThrow(TypeError);
    expect(() => addon.pageOffset()).toThrow(TypeError);
  });
});

describe('preallocate: disk blocks reserved without changing the size', () => {
  const { addon } = require(join(root, 'index.cjs')).load();
  const { closeSync, fstatSync, openSync } = require('node:fs');

  test.runIf(process.platform === 'linux')('reserves on this file system; the size stays', () => {
    const fd = openSync(join(scratch, 'reserved'), 'w');
    try {
      expect(addon.preallocate(fd, 1 << 20)).toBe(true);
      expect(fstatSync(fd).size).toBe(0);
      expect(fstatSync(fd).blocks * 512).toBeGreaterThanOrEqual(1 << 20);
    } finally {
      closeSync(fd);
    }
  });

  test('false where it cannot (a character device, a closed descriptor); misuse throws', () => {
    const fd = openSync('/dev/null', 'w');
    expect(addon.preallocate(fd, 100)).toBe(false);
    closeSync(fd);
    expect(addon.preallocate(fd, 100)).toBe(false);
    expect(() => addon.preallocate(-1, 100)).toThrow(TypeError);
    expect(() => addon.preallocate('3', 100)).toThrow(TypeError);
    expect(() => addon.preallocate(1, 0)).toThrow(RangeError);
    expect(() => addon.preallocate(1)).toThrow(TypeError);
  });
});
