/**
 * What a failed or interrupted run leaves, and what it says about it: the folders it made for
 * `-o` are gone again (never one that was there before), bytes that already went where they
 * cannot be taken back (stdout, a FIFO) are counted and called incomplete, and a closed stdin or
 * stdout is refused instead of being read as an empty input or written as a sink.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, openUploads, testClient } from '../../sos/test/helpers.ts';
import { bash, bin, buildCli, quote, run, sealstream, storeEnv, tempDir, until } from './helpers.ts';

let dir: string;
let key: string;
let otherKey: string;
let plain: Buffer;
let sealed: string;
/** `sealed` with a byte of its last chunk flipped: every chunk before it opens and goes out. */
let tampered: string;

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  key = join(dir, 'key');
  otherKey = join(dir, 'other-key');
  expect((await run(['keygen', '-o', key, '-q'])).code).toBe(0);
  expect((await run(['keygen', '-o', otherKey, '-q'])).code).toBe(0);
  plain = randomBytes(300_000);
  writeFileSync(join(dir, 'plain'), plain);
  sealed = join(dir, 'sealed');
  expect((await run(['encrypt', '--key-file', key, '-o', sealed, join(dir, 'plain')])).code).toBe(0);
  const bytes = readFileSync(sealed);
  bytes[bytes.length - 100]! ^= 1;
  tampered = join(dir, 'tampered');
  writeFileSync(tampered, bytes);
});

/** The plaintext bytes 16 whole chunks hold: what a tampered last chunk lets out before it. */
const RELEASED = 16 * 16384;

describe('a failed -o removes the folders it made', () => {
  it('wrong key, tampered data, a truncated stream: the new folders are gone, the old ones stay', async () => {
    for (const [args, expected] of [
      [['--key-file', otherKey, sealed], 3],
      [['--key-file', key, tampered], 4],
    ] as const) {
      const base = tempDir();
      mkdirSync(join(base, 'old'));
      writeFileSync(join(base, 'keep'), 'x');
      const r = await run(['decrypt', ...args, '-o', join(base, 'old/new/dir/out.bin')]);
      expect(r.code, r.stderr).toBe(expected);
      expect(readdirSync(base).sort()).toEqual(['keep', 'old']);
      // an empty folder that was there before is not removed
      expect(readdirSync(join(base, 'old'))).toEqual([]);
      expect(r.stderr).toContain('the partial output file was removed');
      expect(r.stderr).not.toContain('had already gone out');
    }
    // from stdin, cut short: the same
    const base = tempDir();
    const cut = await run(['decrypt', '--key-file', key, '-o', join(base, 'a/b/out')], {
      input: readFileSync(sealed).subarray(0, 100_000),
    });
    expect(cut.code, cut.stderr).toBe(4);
    expect(readdirSync(base)).toEqual([]);
  });

  it('a folder made by an earlier run, holding its output, stays', async () => {
    const base = tempDir();
    const out = join(base, 'out');
    // the first run makes out/a and leaves ok in it; the failure of the second removes only out/a/b
    const ok = await run(['decrypt', '--key-file', key, '-o', join(out, 'a/ok'), sealed]);
    expect(ok.code).toBe(0);
    const bad = await run(['decrypt', '--key-file', key, '-o', join(out, 'a/b/bad'), tampered]);
    expect(bad.code).toBe(4);
    expect(readdirSync(join(out, 'a'))).toEqual(['ok']);
  });

  it('interrupted: the new folders are gone', async () => {
    const { base, child, ended } = await decryptingIntoNewFolders();
    child.kill('SIGINT');
    const { code, stderr } = await ended;
    expect(code, stderr).toBe('130 null');
    expect(readdirSync(base)).toEqual([]);
  });

  it('a full disk: nothing left, not even the folders', () => {
    const mount = tempDir();
    const script = `mount -t tmpfs -o size=1m tmpfs ${quote(mount)} || exit 99
${sealstream(['encrypt', '--key-file', key, '-o', join(mount, 'new/dir/out'), join(dir, 'big')])} 2>&1; echo "rc=$?"; ls -A ${quote(mount)}`;
    writeFileSync(join(dir, 'big'), randomBytes(3 << 20));
    const output = execFileSync('unshare', ['--user', '--map-root-user', '--mount', 'bash', '-c', script], {
      encoding: 'utf8',
    });
    expect(output).toMatch(/no space left on the device \(ENOSPC\); nothing was left behind/);
    expect(output.trimEnd().endsWith('rc=7'), output).toBe(true);
  });
});

describe('output already delivered is called incomplete', () => {
  it('tampered data to a pipe, a file under >, and -o FIFO: how many bytes went out, and that they are incomplete', () => {
    for (const command of ['decrypt', 'cat'] as const) {
      const pipe = bash(`${sealstream([command, '--key-file', key, tampered])} | wc -c`);
      expect(pipe.stdout.trim()).toBe(String(RELEASED));
      expect(pipe.stderr).toContain(
        `authenticated plaintext had already gone out to stdout (a pipe), at least ${RELEASED} bytes: what was written there is incomplete`,
      );
      const file = join(tempDir(), 'out');
      const shell = bash(`${sealstream([command, '--key-file', key, tampered])} > ${quote(file)}`);
      expect(shell.code).toBe(4);
      expect(shell.stderr).toContain(`had already gone out to stdout (a file), at least ${RELEASED} bytes`);
    }
    const fifo = join(tempDir(), 'fifo');
    execFileSync('mkfifo', [fifo]);
    const received = join(tempDir(), 'received');
    const r = bash(
      `cat ${quote(fifo)} > ${quote(received)} & ${sealstream(['decrypt', '--key-file', key, '-o', fifo, tampered])}; rc=$?; wait; exit $rc`,
    );
    expect(r.code, r.stderr).toBe(4);
    expect(readFileSync(received).length).toBe(RELEASED);
    expect(r.stderr).toContain(
      `authenticated plaintext had already gone out to ${fifo} (a FIFO), at least ${RELEASED} bytes: what was written there is incomplete`,
    );
  });

  it('interrupted while a FIFO reader stalls: ended by the signal past the cleanup bound, the bytes sent named', async () => {
    const base = tempDir();
    const fifo = join(base, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // reads 64 KiB, then keeps the FIFO open without reading: the writer blocks
    const reader = spawn('bash', ['-c', 'exec 3<"$0"; head -c 65536 <&3 >/dev/null; exec sleep 60', fifo], {
      stdio: 'ignore',
    });
    try {
      const child = spawn(process.execPath, [bin, 'decrypt', '--key-file', key, '-o', fifo, sealed], {
        env: storeEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const ended = exited(child);
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGTERM');
      const { code, stderr } = await ended;
      expect(code, stderr).toBe('null SIGTERM');
      expect(stderr).toMatch(
        /authenticated plaintext had already gone out to .*fifo \(a FIFO\), (at least \d+ bytes|maybe in part): what was written there is incomplete/,
      );
    } finally {
      reader.kill('SIGKILL');
    }
  });
});

describe('a closed stdin or stdout is refused', () => {
  it('encrypt <&-: exit 1, no output, not an empty object sealed', () => {
    const r = bash(`exec <&-; ${sealstream(['encrypt', '--key-file', key])} | wc -c`);
    expect(r.stdout.trim()).toBe('0');
    expect(r.stderr).toContain('stdin is closed (bad file descriptor)');
    const rc = bash(`exec <&-; ${sealstream(['encrypt', '--key-file', key, '-o', join(tempDir(), 'out')])}`);
    expect(rc.code).toBe(1);
    expect(bash(`exec <&-; ${sealstream(['decrypt', '--key-file', key])} > /dev/null`).code).toBe(1);
    // a key file read from a closed stdin: said as such, not "holds no key"; an upload from it
    // is refused before any request (the bucket does not exist)
    for (const args of [
      ['key-id', '-'],
      ['decrypt', '--key-file', '-', sealed],
      ['cp', '--key-file', key, '-', 's3://no-such-bucket-x9-closed/k'],
    ]) {
      const r = bash(`exec <&-; ${sealstream(args)} > /dev/null`);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('stdin is closed (bad file descriptor)');
    }
  });

  it('decrypt, cat, encrypt, keygen >&-: exit 7 before any work', () => {
    for (const args of [
      ['decrypt', '--key-file', key, sealed],
      ['cat', '--key-file', key, sealed],
      ['encrypt', '--key-file', key, join(dir, 'plain')],
      ['keygen'],
      ['decrypt', '--key-file', key, '-o', '/dev/stdout', sealed],
      ['encrypt', '--key-file', key, '-o', '/dev/fd/1', join(dir, 'plain')],
    ]) {
      const r = bash(`exec >&-; ${sealstream(args)}`);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(7);
      expect(r.stderr).toContain('stdout is closed (bad file descriptor)');
    }
  });

  it('what is not closed goes through: < /dev/null, > /dev/null, -o /dev/null, a parent ignoring stdin', async () => {
    const empty = bash(`${sealstream(['encrypt', '--key-file', key])} < /dev/null | wc -c`);
    expect(Number(empty.stdout.trim())).toBeGreaterThan(0);
    expect(bash(`${sealstream(['decrypt', '--key-file', key, sealed])} > /dev/null`).code).toBe(0);
    expect(
      bash(`exec >&-; ${sealstream(['decrypt', '--key-file', key, '-o', '/dev/null', sealed])}`).code,
    ).toBe(0);
    const ignored = spawnSync(process.execPath, [bin, 'encrypt', '--key-file', key], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: storeEnv(),
    });
    expect(ignored.status, ignored.stderr.toString()).toBe(0);
  });
});

describe('stopping without waiting for cleanup (a second signal)', () => {
  let client: S3Client;
  let bucket: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    client = testClient();
    ({ bucket, cleanup } = await freshBucket(client));
  });

  afterAll(async () => {
    await cleanup?.();
    client?.destroy();
  });

  /**
   * Delivers SIGINT and SIGTERM together: the process is stopped while both are sent, so both
   * handlers run at once when it continues, the second before any cleanup of the first.
   */
  function twoSignals(child: ChildProcess): void {
    child.kill('SIGSTOP');
    child.kill('SIGINT');
    child.kill('SIGTERM');
    child.kill('SIGCONT');
  }

  it('a local run: ended by the signal, the partial file and the folders made removed', async () => {
    const { base, child, ended } = await decryptingIntoNewFolders();
    twoSignals(child);
    const { code, stderr } = await ended;
    expect(code, stderr).toMatch(/^null SIG(INT|TERM)$/);
    expect(stderr).toMatch(
      /SIG(TERM after SIGINT|INT after SIGTERM): stopped without waiting for cleanup; the partial output file was removed/,
    );
    expect(stderr).not.toMatch(/upload/);
    expect(readdirSync(base)).toEqual([]);
  });

  it('an upload: ended by the signal, the upload under way named', async () => {
    const destination = `s3://${bucket}/second-signal.bin`;
    const child = spawn(process.execPath, [bin, 'cp', '--key-file', key, '-', destination], {
      env: storeEnv(),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    const ended = exited(child);
    child.stdin!.on('error', () => {});
    try {
      child.stdin!.write(randomBytes(20 << 20));
      await until(async () => (await openUploads(client, bucket)) > 0, 'the multipart upload to start');
      twoSignals(child);
      const { code, stderr } = await ended;
      expect(code, stderr).toMatch(/^null SIG(INT|TERM)$/);
      expect(stderr).toContain(
        `the upload to ${destination} was under way and may be left on the store as an incomplete multipart upload: \`sealstream uploads ls ${destination}\` shows it`,
      );
      // from stdin: nothing to resume it from
      expect(stderr).not.toContain('resumes');
    } finally {
      child.kill('SIGKILL');
      await run(['uploads', 'abort', '--all', `s3://${bucket}/`]);
    }
  });

  it('an upload of a file: the message adds that the same command resumes it', async () => {
    const destination = `s3://${bucket}/second-signal-file.bin`;
    const file = join(tempDir(), 'big');
    writeFileSync(file, randomBytes(64 << 20));
    const stateDir = tempDir();
    const child = spawn(process.execPath, [bin, 'cp', '--key-file', key, file, destination], {
      env: storeEnv({ SEALSTREAM_STATE_DIR: stateDir }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const ended = exited(child);
    try {
      await until(async () => (await openUploads(client, bucket)) > 0, 'the multipart upload to start');
      twoSignals(child);
      const { code, stderr } = await ended;
      expect(code, stderr).toMatch(/^null SIG(INT|TERM)$/);
      expect(stderr).toContain(
        `the upload to ${destination} was under way and may be left on the store as an incomplete multipart upload`,
      );
      expect(stderr).toContain('running the same command again resumes it');
    } finally {
      child.kill('SIGKILL');
      rmSync(file, { force: true });
      await run(['uploads', 'abort', '--all', `s3://${bucket}/`]);
    }
  });
});

/**
 * Starts `decrypt -o BASE/x/y/out` (x and y made by the run) from a stdin that stalls after the
 * first chunks, once its partial file is there.
 */
async function decryptingIntoNewFolders(): Promise<{
  base: string;
  child: ChildProcess;
  ended: ReturnType<typeof exited>;
}> {
  const base = tempDir();
  const child = spawn(process.execPath, [bin, 'decrypt', '--key-file', key, '-o', join(base, 'x/y/out')], {
    env: storeEnv(),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const ended = exited(child);
  child.stdin!.write(readFileSync(sealed).subarray(0, 100_000));
  await until(
    () => existsSync(join(base, 'x/y')) && readdirSync(join(base, 'x/y')).length > 0,
    'the partial file',
  );
  return { base, child, ended };
}

/** `"CODE SIGNAL"` and stderr once the child has ended. */
function exited(child: ChildProcess): Promise<{ code: string; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code: `${code} ${signal}`, stderr })),
  );
}
