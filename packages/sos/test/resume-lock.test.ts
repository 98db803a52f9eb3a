/**
 * The lock of a resume journal, against the real RGW: two runs on one journal never interleave
 * (the second is refused with JOURNAL_LOCKED before anything is sent), a lock left by a killed
 * process is taken over (also when its PID now belongs to another process), and a lock whose
 * holder cannot be checked is respected.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { decrypt, generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { type Encryption, putObject } from '../src/index.ts';
import { lockJournal, processStarted } from '../src/resume/lock.ts';
import { collect, openUploads, scratchDir, useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB;

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

const dir = scratchDir('resume-lock');

let counter = 0;
/** A fresh 12 MiB file (3 parts) and a journal path beside it. */
function source(): { path: string; journal: string; data: Uint8Array } {
  const n = counter++;
  const data = new Uint8Array(randomBytes(12 * MiB + 321));
  const path = join(dir, `source-${n}.bin`);
  writeFileSync(path, data);
  return { path, journal: join(dir, `source-${n}.journal`), data };
}

const clientKey = generateKey();
const encryption: Encryption = { clientSide: { keys: clientKey } };

function put(key: string, path: string, journal: string) {
  return putObject({
    client,
    bucket,
    key,
    body: path,
    encryption,
    partSize: PART,
    queueSize: 1,
    resume: { journal },
  });
}

async function storedPlaintext(key: string): Promise<Uint8Array> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return decrypt(await collect(out.Body!.transformToWebStream()), { keys: clientKey });
}

/** A process that runs until killed, and its PID. */
function sleeper(): { pid: number; kill: () => Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  return {
    pid: child.pid!,
    kill: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('one run at a time per journal', () => {
  it('two concurrent runs on one journal: one uploads, the other is refused with JOURNAL_LOCKED', async () => {
    const { path, journal, data } = source();
    const key = 'concurrent';
    const results = await Promise.allSettled([put(key, path, journal), put(key, path, journal)]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(
      refused,
      JSON.stringify(refused.map((r) => String((r as PromiseRejectedResult).reason))),
    ).toHaveLength(1);
    const err = (refused[0] as PromiseRejectedResult).reason;
    expect(err.code).toBe('JOURNAL_LOCKED');
    expect(err.message).toContain('this process');
    expect(err.message).toContain(`${journal}.lock`);
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    expect(Buffer.compare(await storedPlaintext(key), data)).toBe(0);
    expect(await openUploads(client, bucket)).toBe(0);
    expect(existsSync(journal)).toBe(false);
    expect(existsSync(`${journal}.lock`), 'the lock is released').toBe(false);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  });

  it('a lock held by another live process: JOURNAL_LOCKED, nothing sent, the lock kept; once that process is killed, its stale lock is taken over', async () => {
    const { path, journal, data } = source();
    const key = 'held-elsewhere';
    const holder = sleeper();
    const lock = `${journal}.lock`;
    const lockText = JSON.stringify({ pid: holder.pid, host: hostname(), token: 'theirs' });
    writeFileSync(lock, lockText);
    try {
      const err = await put(key, path, journal).catch((e) => e);
      expect(err.code).toBe('JOURNAL_LOCKED');
      expect(err.message).toContain(`process ${holder.pid}`);
      expect(await openUploads(client, bucket)).toBe(0);
      expect(existsSync(journal)).toBe(false);
      expect(readFileSync(lock, 'utf8')).toBe(lockText);
    } finally {
      await holder.kill();
    }
    // the holder is dead (kill -9 leaves its lock behind): the lock is stale
    const out = await put(key, path, journal);
    expect(out.plaintextSize).toBe(data.length);
    expect(Buffer.compare(await storedPlaintext(key), data)).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expect(await openUploads(client, bucket)).toBe(0);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  });

  it('a lock from another host, or one that names no holder, is respected (it cannot be checked)', async () => {
    const { path, journal } = source();
    const lock = `${journal}.lock`;
    for (const text of [JSON.stringify({ pid: 1, host: `not-${hostname()}`, token: 'x' }), '', 'garbage']) {
      writeFileSync(lock, text);
      const err = await put('other-host', path, journal).catch((e) => e);
      expect(err.code, text).toBe('JOURNAL_LOCKED');
      expect(readFileSync(lock, 'utf8')).toBe(text);
    }
    expect(await openUploads(client, bucket)).toBe(0);
  });

  it.runIf(existsSync('/proc/self/stat'))(
    "a lock whose holder's PID was reused by another process is stale and taken over; the holder's own process keeps it",
    async () => {
      const { path, journal, data } = source();
      const key = 'pid-reused';
      const lock = `${journal}.lock`;
      // a lock records which process holds it, not only its PID
      const own = await lockJournal(join(dir, 'own.journal'));
      const recorded = JSON.parse(readFileSync(own.path, 'utf8')) as { started?: string };
      expect(recorded.started).toBe(processStarted(process.pid));
      expect(recorded.started).toMatch(/^[0-9a-f-]+:\d+$/);
      await own.release();

      const other = sleeper(); // a live process with the dead holder's PID
      try {
        const started = processStarted(other.pid)!;
        const [boot, ticks] = started.split(':');
        // the same PID, started at another time: the holder died and its PID was given to `other`
        writeFileSync(
          lock,
          JSON.stringify({
            pid: other.pid,
            host: hostname(),
            token: 'dead',
            started: `${boot}:${Number(ticks) - 1}`,
          }),
        );
        const out = await put(key, path, journal);
        expect(out.plaintextSize).toBe(data.length);
        expect(Buffer.compare(await storedPlaintext(key), data)).toBe(0);
        expect(existsSync(lock), 'taken over, then released').toBe(false);
        // the process that really holds it keeps it
        const held = JSON.stringify({ pid: other.pid, host: hostname(), token: 'live', started });
        writeFileSync(lock, held);
        const err = await put(key, path, journal).catch((e) => e);
        expect(err.code).toBe('JOURNAL_LOCKED');
        expect(readFileSync(lock, 'utf8')).toBe(held);
      } finally {
        await other.kill();
      }
      expect(await openUploads(client, bucket)).toBe(0);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  );
});
