/**
 * The loader against binaries a user's disk can hold: cut short (an interrupted install or copy, a
 * full disk), made for another processor, not a binary at all, and the switch that keeps the addon
 * from loading. Each case runs in a child process, because the failure this guards against is the
 * process being killed (SIGBUS), which no test in this process could observe.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const prebuilt = join(root, 'prebuilds/linux-x64-glibc/sealstream_native.node');
const onLinuxX64Glibc = process.platform === 'linux' && process.arch === 'x64';
const scratch = mkdtempSync(join(tmpdir(), 'sealstream-loader-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the package's loader with `binary` as its prebuilt binary. */
function packageWith(name: string, binary: Buffer): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'prebuilds/linux-x64-glibc'), { recursive: true });
  for (const file of ['index.cjs', 'elf.cjs']) copyFileSync(join(root, file), join(dir, file));
  writeFileSync(join(dir, 'prebuilds/linux-x64-glibc/sealstream_native.node'), binary);
  return dir;
}

/**
 * Runs load() of the package in `dir` in a child process: its exit status and signal, what load()
 * returned, and whether the binary was mapped into the process.
 */
function loadIn(dir: string, env: Record<string, string> = {}) {
  const script = `
    const r = require(${JSON.stringify(join(dir, 'index.cjs'))}).load();
    const mapped = require('node:fs').readFileSync('/proc/self/maps', 'utf8').includes('sealstream_native.node');
    console.log(JSON.stringify({ loaded: Boolean(r.addon), reason: r.reason, mapped }));`;
  const child = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, SEALSTREAM_NATIVE: '', ...env },
  });
  const result = child.status === 0 ? JSON.parse(child.stdout) : undefined;
  return { status: child.status, signal: child.signal, stderr: child.stderr, result };
}

describe.runIf(onLinuxX64Glibc)('a damaged prebuilt binary: the process lives on and load() says why', () => {
  const whole = readFileSync(prebuilt);

  test.each([
    ['a page of it', 4096],
    ['half of it', whole.length >> 1],
    ['three quarters of it', (whole.length * 3) >> 2],
  ])('cut short to %s: a reason, never SIGBUS', (_, length) => {
    const run = loadIn(packageWith(`cut-${length}`, whole.subarray(0, length)));
    expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
    expect(run.result.loaded).toBe(false);
    expect(run.result.reason).toMatch(
      /is cut short \(\d+ bytes; its segments need \d+\): reinstall @sealstream\/native/,
    );
    expect(run.result.mapped).toBe(false);
  });

  test('cut short inside its header: a reason', () => {
    const run = loadIn(packageWith('cut-header', whole.subarray(0, 40)));
    expect(run.status).toBe(0);
    expect(run.result.reason).toMatch(/is cut short \(40 bytes, not even an ELF header\)/);
  });

  test('made for another processor: says which, instead of "No such file or directory"', () => {
    const arm = Buffer.from(whole);
    arm.writeUInt16LE(183, 18); // e_machine: AArch64
    const run = loadIn(packageWith('arm64', arm));
    expect(run.status).toBe(0);
    expect(run.result.reason).toMatch(/was built for arm64, but this process runs on x64/);
    expect(run.result.mapped).toBe(false);
  });

  test('not a binary at all: the dynamic loader says so', () => {
    const run = loadIn(packageWith('garbage', Buffer.alloc(whole.length, 0x5a)));
    expect(run.status).toBe(0);
    expect(run.result.reason).toMatch(/invalid ELF header/);
  });
});

// a build from source needs Node's headers beside node (node-gyp would download them otherwise)
const headers = existsSync(join(process.execPath, '../../include/node/node_api.h'));

describe.runIf(onLinuxX64Glibc && headers)('the install script with a damaged prebuilt binary', () => {
  /** The whole package as npm unpacks it, its binary cut to 4 KiB. */
  function unpacked(name: string): string {
    const dir = join(scratch, name);
    for (const part of ['index.cjs', 'elf.cjs', 'binding.gyp', 'src', 'scripts', 'package.json'])
      cpSync(join(root, part), join(dir, part), { recursive: true });
    mkdirSync(join(dir, 'prebuilds/linux-x64-glibc'), { recursive: true });
    writeFileSync(
      join(dir, 'prebuilds/linux-x64-glibc/sealstream_native.node'),
      readFileSync(prebuilt).subarray(0, 4096),
    );
    return dir;
  }
  const install = (dir: string, env: Record<string, string>) =>
    spawnSync(process.execPath, ['scripts/build.cjs', '--install'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, SEALSTREAM_NATIVE: '', SEALSTREAM_NATIVE_SKIP_BUILD: '', ...env },
    });

  test('succeeds (npm would fail the whole install on a crash): builds from source or says why not', () => {
    const run = install(unpacked('install'), {});
    expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
    expect(run.stdout).toMatch(
      /@sealstream\/native: (built from source|not built \(.*\); sealstream uses node:crypto instead)/,
    );
  });

  test('with SEALSTREAM_NATIVE=0 it builds nothing', () => {
    const dir = unpacked('install-off');
    const run = install(dir, { SEALSTREAM_NATIVE: '0' });
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 0, stdout: '' });
    expect(existsSync(join(dir, 'build'))).toBe(false);
  });
});

describe('SEALSTREAM_NATIVE=0: the addon is not loaded at all', () => {
  test.each(['0', 'off'])('SEALSTREAM_NATIVE=%s: a reason, and no binary in the process', (value) => {
    const run = loadIn(root, { SEALSTREAM_NATIVE: value });
    expect(run.status).toBe(0);
    expect(run.result).toEqual({
      loaded: false,
      reason: `turned off by SEALSTREAM_NATIVE=${value}`,
      mapped: false,
    });
  });

  test.runIf(onLinuxX64Glibc)('any other value leaves it on', () => {
    const run = loadIn(root, { SEALSTREAM_NATIVE: '1' });
    expect(run.result).toEqual({ loaded: true, mapped: true });
  });
});
