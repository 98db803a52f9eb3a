/**
 * Every byte delivered or a failure reported: output read through slow readers arrives whole, and
 * a write that fails (EPIPE, ENOSPC, a short write on a full disk) ends in exit 7 with a message,
 * never in exit 0 with bytes missing.
 *
 * `SEALSTREAM_SLOW_READER_RUNS` sets how many `decrypt | dd bs=4096` runs to make (default 20;
 * the acceptance run is 100).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { bin, buildCli, filesIn, run, storeEnv, tempDir } from './helpers.ts';

const RUNS = Number(process.env.SEALSTREAM_SLOW_READER_RUNS ?? 20);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let dir: string;
let key: string;
let plain: Buffer;
let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  key = join(dir, 'key');
  expect((await run(['keygen', '-o', key, '-q'])).code).toBe(0);
  plain = randomBytes(5_000_000); // not a multiple of the chunk size: the last write is a short one
  writeFileSync(join(dir, 'plain'), plain);
  expect(
    (await run(['encrypt', '--key-file', key, '-o', join(dir, 'sealed'), join(dir, 'plain')])).code,
  ).toBe(0);
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
});

afterAll(async () => {
  await cleanup?.();
  client?.destroy();
});

/**
 * Runs `sealstream ARGS | READER` in bash; the reader writes to a file. Returns sealstream's exit
 * code, its stderr and what the reader received.
 */
function throughReader(
  args: string[],
  reader: string,
  env: Record<string, string> = storeEnv(),
): { code: number; stderr: string; received: Buffer } {
  const out = join(dir, `received-${randomBytes(4).toString('hex')}`);
  const err = `${out}.stderr`;
  const sealstream = [process.execPath, bin, ...args].map(quote).join(' ');
  const status = execFileSync(
    'bash',
    ['-c', `${sealstream} 2>${quote(err)} | ${reader} >${quote(out)}; echo "\${PIPESTATUS[0]}"`],
    { env, encoding: 'utf8' },
  );
  return { code: Number(status.trim()), stderr: readFileSync(err, 'utf8'), received: readFileSync(out) };
}

/** A reader that takes 4 KiB at a time and sleeps between reads. */
const SLEEPY_READER = `${quote(process.execPath)} -e ${quote(
  `const fs = require('fs'); const b = Buffer.alloc(4096);
   const sleep = new Int32Array(new SharedArrayBuffer(4));
   for (let i = 0; ; i++) {
     let n; try { n = fs.readSync(0, b, 0, b.length, null); } catch (e) { if (e.code === 'EAGAIN') continue; throw e; }
     if (n === 0) break;
     fs.writeSync(1, b, 0, n);
     if (i % 64 === 0) Atomics.wait(sleep, 0, 0, 5);
   }`,
)}`;

describe('slow readers get every byte', () => {
  it(`decrypt | dd bs=4096, ${RUNS} runs: 0 bytes lost`, { timeout: RUNS * 5_000 }, () => {
    const lost: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = throughReader(['decrypt', '--key-file', key, join(dir, 'sealed')], 'dd bs=4096 status=none');
      if (r.code !== 0 || sha256(r.received) !== sha256(plain))
        lost.push(`run ${i + 1}: exit ${r.code}, ${r.received.length} of ${plain.length} bytes`);
    }
    expect(lost).toEqual([]);
  });

  it('decrypt, encrypt and cat of a local file through a reader that sleeps', { timeout: 120_000 }, () => {
    for (let i = 0; i < 3; i++) {
      const dec = throughReader(['decrypt', '--key-file', key, join(dir, 'sealed')], SLEEPY_READER);
      expect(dec.code, dec.stderr).toBe(0);
      expect(sha256(dec.received)).toBe(sha256(plain));
      const cat = throughReader(['cat', join(dir, 'plain')], SLEEPY_READER);
      expect(cat.code, cat.stderr).toBe(0);
      expect(sha256(cat.received)).toBe(sha256(plain));
      const enc = throughReader(['encrypt', '--key-file', key, join(dir, 'plain')], 'dd bs=4096 status=none');
      expect(enc.code, enc.stderr).toBe(0);
      writeFileSync(join(dir, 'resealed'), enc.received);
      const back = throughReader(['decrypt', '--key-file', key, join(dir, 'resealed')], 'cat');
      expect(sha256(back.received)).toBe(sha256(plain));
    }
  });

  it('cat and cp of an object to stdout through dd bs=4096', { timeout: 120_000 }, async () => {
    const up = await run(['cp', '--key-file', key, join(dir, 'plain'), `s3://${bucket}/slow/plain`]);
    expect(up.code, up.stderr).toBe(0);
    for (let i = 0; i < 3; i++) {
      const cat = throughReader(
        ['cat', '--key-file', key, `s3://${bucket}/slow/plain`],
        'dd bs=4096 status=none',
      );
      expect(cat.code, cat.stderr).toBe(0);
      expect(sha256(cat.received)).toBe(sha256(plain));
      const cp = throughReader(['cp', '--key-file', key, `s3://${bucket}/slow/plain`, '-'], SLEEPY_READER);
      expect(cp.code, cp.stderr).toBe(0);
      expect(sha256(cp.received)).toBe(sha256(plain));
    }
  });

  it('--json after data on stdout: the JSON line goes to stderr, the data arrives whole', () => {
    const r = throughReader(
      ['decrypt', '--json', '--key-file', key, join(dir, 'sealed')],
      'dd bs=4096 status=none',
    );
    expect(r.code).toBe(0);
    expect(sha256(r.received)).toBe(sha256(plain));
    expect(JSON.parse(r.stderr.trim().split('\n').pop()!).plaintextSize).toBe(plain.length);
  });
});

describe('failed writes are reported, exit 7', () => {
  it('the reader goes away (EPIPE)', () => {
    const r = throughReader(['decrypt', '--key-file', key, join(dir, 'sealed')], 'head -c 100');
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(
      /writing to stdout: the reader closed the pipe .*\(EPIPE\); authenticated plaintext had already gone out to stdout \(a pipe\), (at least \d+ bytes|maybe in part): what was written there is incomplete/,
    );
    expect(r.received.length).toBe(100);
    const cat = throughReader(['cat', join(dir, 'plain')], 'head -c 10');
    expect(cat.code).toBe(7);
  });

  it('ls and ls --json to a reader that is gone: exit 7 with the message, not a silent exit 13', async () => {
    expect(
      (await run(['cp', '-q', '--key-file', key, join(dir, 'plain'), `s3://${bucket}/ls-epipe/one`])).code,
    ).toBe(0);
    for (const args of [['ls'], ['ls', '--json']]) {
      // `true` exits without reading: the first write fails with EPIPE
      const r = throughReader([...args, `s3://${bucket}/ls-epipe/`], 'true');
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(7);
      expect(r.stderr).toMatch(/writing to stdout: the reader closed the pipe .*\(EPIPE\)/);
    }
  });

  it('stdout is a full device (/dev/full): decrypt, cat, keygen, inspect', () => {
    for (const args of [
      ['decrypt', '--key-file', key, join(dir, 'sealed')],
      ['cat', join(dir, 'plain')],
      ['keygen'],
      ['inspect', join(dir, 'sealed')],
      ['inspect', '--json', join(dir, 'sealed')],
    ]) {
      const full = execFileSync(
        'bash',
        ['-c', `${[process.execPath, bin, ...args].map(quote).join(' ')} 2>&1 >/dev/full; echo "rc=$?"`],
        { encoding: 'utf8' },
      );
      expect(full, args.join(' ')).toMatch(/writing to stdout: no space left on the device \(ENOSPC\)/);
      expect(full, args.join(' ')).toMatch(/rc=7\n$/);
      expect(full).not.toContain(readFileSync(key, 'utf8').trim());
    }
  });

  /**
   * Runs `sealstream ARGS` with a private tmpfs of `size` mounted at `mountDir` (a user and mount
   * namespace of its own: no root needed, nothing stays mounted), and lists the tmpfs afterwards.
   */
  function onSmallDisk(size: string, command: string): { code: number; output: string; files: string[] } {
    const mountDir = tempDir();
    const script = `mount -t tmpfs -o size=${size} tmpfs ${quote(mountDir)} || exit 99
{ ${command.replaceAll('DISK', quote(mountDir))}; } 2>&1; echo "rc=$?"; ls -A ${quote(mountDir)} | sed 's/^/file: /'`;
    const output = execFileSync('unshare', ['--user', '--map-root-user', '--mount', 'bash', '-c', script], {
      encoding: 'utf8',
    });
    const code = Number(/rc=(\d+)/.exec(output)?.[1] ?? -1);
    expect(code, output).not.toBe(99);
    const files = [...output.matchAll(/^file: (.*)$/gm)].map((m) => m[1]!);
    return { code, output, files };
  }

  it('a full disk under -o: exit 7, a message, and nothing left on the disk', () => {
    const sealstream = [process.execPath, bin].map(quote).join(' ');
    for (const args of [
      `decrypt --key-file ${quote(key)} -o DISK/out ${quote(join(dir, 'sealed'))}`,
      `encrypt --key-file ${quote(key)} -o DISK/out ${quote(join(dir, 'plain'))}`,
      `cp ${quote(join(dir, 'plain'))} DISK/out`,
    ]) {
      const r = onSmallDisk('1m', `${sealstream} ${args}`);
      expect(r.code, r.output).toBe(7);
      expect(r.output).toMatch(
        /writing .*\/out: no space left on the device \(ENOSPC\); nothing was left behind/,
      );
      expect(r.files).toEqual([]);
    }
  });

  it('a full disk under -o for a large file (written by the writer thread): exit 7, nothing left', async () => {
    // 40 MiB: above the size from which the output goes through a thread of its own
    const big = join(dir, 'plain-40M');
    writeFileSync(big, randomBytes(40 << 20));
    expect((await run(['encrypt', '--key-file', key, '-o', `${big}.sealed`, big])).code).toBe(0);
    const sealstream = [process.execPath, bin].map(quote).join(' ');
    for (const args of [
      `encrypt --key-file ${quote(key)} -o DISK/out ${quote(big)}`,
      `decrypt --key-file ${quote(key)} -o DISK/out ${quote(`${big}.sealed`)}`,
    ]) {
      const r = onSmallDisk('8m', `${sealstream} ${args}`);
      expect(r.code, r.output).toBe(7);
      expect(r.output).toMatch(
        /writing .*\/out: no space left on the device \(ENOSPC\); nothing was left behind/,
      );
      expect(r.files).toEqual([]);
    }
    // and with room, the same files round-trip whole through the thread
    const opened = join(dir, 'plain-40M.opened');
    expect((await run(['decrypt', '--key-file', key, '-o', opened, `${big}.sealed`])).code).toBe(0);
    expect(sha256(readFileSync(opened))).toBe(sha256(readFileSync(big)));
  });

  it('a full disk under stdout (> file), also when the last write is short', () => {
    const sealstream = [process.execPath, bin].map(quote).join(' ');
    // 1.5 MiB in blocks of 256 KiB onto 1100 KiB: the second and last write is short, with no
    // error from the system; only a writer that checks the count sees the loss
    writeFileSync(join(dir, 'plain-1.5M'), plain.subarray(0, 1536 * 1024));
    const short = onSmallDisk('1100k', `${sealstream} cat ${quote(join(dir, 'plain-1.5M'))} > DISK/out`);
    expect(short.code, short.output).toBe(7);
    expect(short.output).toMatch(
      /writing to stdout: no space left on the device \(ENOSPC\); data had already gone out to stdout \(a file\), (at least \d+ bytes|maybe in part): what was written there is incomplete/,
    );
    const dec = onSmallDisk(
      '1m',
      `${sealstream} decrypt --key-file ${quote(key)} ${quote(join(dir, 'sealed'))} > DISK/out`,
    );
    expect(dec.code, dec.output).toBe(7);
  });

  it('the temporary file of a failed -o is gone, and other files stay', async () => {
    const out = tempDir();
    writeFileSync(join(out, 'keep'), 'x');
    const r = await run(['decrypt', '--key-file', key, '-o', join(out, 'plain')], {
      input: readFileSync(join(dir, 'sealed')).subarray(0, 1_000_000),
    });
    expect(r.code).toBe(4);
    expect(filesIn(out)).toEqual(['keep']);
  });
});
