/**
 * `cp -r` and `rekey -r` against the local S3 server when some objects fail and the others go
 * through, as a script reading `--json` sees it: the summary names every object (done, left as it
 * is, failed with its own exit code), the error line that follows it does not call the summary
 * incomplete output, and the exit code is the one the failures share, or 1 when they differ
 * (never whichever failure a parallel run met first). Also: `rekey -r` to public keys only warns
 * as `rekey` of one object does.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { formatKey, inspectHeader, parseKey } from '@sealstream/core';
import { type Encryption, putObject } from '@sealstream/sos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { buildCli, run, tempDir } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let dir: string;
const keyFiles: Record<string, string> = {};
const keys: Record<string, Uint8Array> = {};

async function put(key: string, encryption: Encryption, body: Uint8Array = randomBytes(3000)): Promise<void> {
  await putObject({ client, bucket, key, body, encryption });
}

/** Stores a client-side object under `key` whose header's commitment was changed (exit 4 to open). */
async function putWithBrokenCommitment(key: string): Promise<void> {
  await put(key, { clientSide: { keys: [keys.old!] } });
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  // SPEC §6: the payload starts with a 24-byte salt and the 32-byte commitment
  bytes[inspectHeader(bytes).headerLength + 30]! ^= 1;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
}

/** Stores a client-side object under `key` with one payload byte changed (exit 4 to read). */
async function putTampered(key: string): Promise<void> {
  await put(key, { clientSide: { keys: [keys.old!] } });
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  bytes[bytes.length - 100]! ^= 1;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
}

/** The JSON lines of a run's stdout. */
function jsonLines(stdout: Buffer): Record<string, unknown>[] {
  return stdout
    .toString()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

const WRONGLY_INCOMPLETE = /had already gone out|incomplete/;

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  dir = tempDir();
  for (const name of ['old', 'new', 'ssec']) {
    keyFiles[name] = join(dir, name);
    expect((await run(['keygen', '-q', '-o', keyFiles[name]!])).code).toBe(0);
    keys[name] = parseKey(readFileSync(keyFiles[name]!, 'utf8').trim());
  }
});

afterAll(() => cleanup?.());

describe('rekey -r with some objects failing', { timeout: 120_000 }, () => {
  it('failures of different kinds: exit 1, every object named in the summary, no "incomplete output" line', async () => {
    await put('mixed/ok', { clientSide: { keys: [keys.old!] } });
    await put('mixed/plain', 'none');
    await putWithBrokenCommitment('mixed/broken');
    await put('mixed/ssec/a', { sseC: { key: keys.ssec! } });
    const r = await run([
      'rekey',
      '-r',
      '--json',
      '--key-file',
      keyFiles.old!,
      '--to-key-file',
      keyFiles.new!,
      // covers nothing under mixed/: the SSE-C object fails (exit 3)
      '--encrypt-key',
      `s3/${bucket}/elsewhere/=${formatKey(keys.ssec!)}`,
      `s3://${bucket}/mixed/`,
    ]);
    const lines = jsonLines(r.stdout);
    expect(lines, r.stderr).toHaveLength(2);
    const [summary, failure] = lines as [Record<string, any>, { error: Record<string, unknown> }];
    expect(summary).toMatchObject({ objects: 4, rekeyed: 1 });
    expect(summary.rekeyedObjects).toEqual([
      { target: `s3://${bucket}/mixed/ok`, clientSide: true, sseC: false },
    ]);
    expect(summary.skippedObjects).toEqual([
      { target: `s3://${bucket}/mixed/plain`, reason: 'plaintext (rekey changes keys, not layers)' },
    ]);
    const failed = Object.fromEntries(
      (summary.failed as { target: string; exitCode: number }[]).map((f) => [f.target, f.exitCode]),
    );
    expect(failed).toEqual({ [`s3://${bucket}/mixed/broken`]: 4, [`s3://${bucket}/mixed/ssec/a`]: 3 });
    // 3 and 4 differ: neither is the run's code
    expect(r.code, r.stderr).toBe(1);
    expect(failure.error).toMatchObject({ code: 'ERROR', exitCode: 1 });
    expect(failure.error.message).toContain('2 of 4 objects could not be rekeyed');
    expect(failure.error.message).not.toMatch(WRONGLY_INCOMPLETE);
    expect(r.stderr).not.toMatch(WRONGLY_INCOMPLETE);
  });

  it('failures of one kind: their exit code and stable code, the summary not called incomplete', async () => {
    await put('same/a', { sseC: { key: keys.ssec! } });
    await put('same/b', { sseC: { key: keys.ssec! } });
    await put('same/c', { clientSide: { keys: [keys.old!] } });
    const r = await run([
      'rekey',
      '-r',
      '--json',
      '--key-file',
      keyFiles.old!,
      '--to-key-file',
      keyFiles.new!,
      '--encrypt-key',
      `s3/${bucket}/elsewhere/=${formatKey(keys.ssec!)}`,
      `s3://${bucket}/same/`,
    ]);
    expect(r.code, r.stderr).toBe(3);
    const [summary, failure] = jsonLines(r.stdout) as [Record<string, any>, { error: Record<string, any> }];
    expect(summary.rekeyedObjects.map((o: { target: string }) => o.target)).toEqual([
      `s3://${bucket}/same/c`,
    ]);
    expect(failure.error).toMatchObject({ code: 'SSE_C_NO_KEY_FOR_PATH', exitCode: 3 });
    expect(failure.error.message).not.toMatch(WRONGLY_INCOMPLETE);
  });
});

describe('cp -r down with some objects failing', { timeout: 120_000 }, () => {
  it('names the files copied and the one that failed; exit 4; the summary is not called incomplete', async () => {
    await put('down/a', { clientSide: { keys: [keys.old!] } });
    await put('down/b', { clientSide: { keys: [keys.old!] } });
    await putTampered('down/c');
    const out = join(dir, 'down');
    mkdirSync(out);
    const r = await run(['cp', '-r', '--json', '--key-file', keyFiles.old!, `s3://${bucket}/down/`, out]);
    expect(r.code, r.stderr).toBe(4);
    const [summary, failure] = jsonLines(r.stdout) as [Record<string, any>, { error: Record<string, any> }];
    expect(summary.files.map((f: { source: string }) => f.source).sort()).toEqual([
      `s3://${bucket}/down/a`,
      `s3://${bucket}/down/b`,
    ]);
    expect(summary.failed).toEqual([
      expect.objectContaining({ source: `s3://${bucket}/down/c`, exitCode: 4 }),
    ]);
    expect(failure.error).toMatchObject({ code: 'CHUNK_AUTH_FAILED', exitCode: 4 });
    expect(failure.error.message).not.toMatch(WRONGLY_INCOMPLETE);
    // nothing of the object that failed authentication
    expect(readdirSync(out).sort()).toEqual(['a', 'b']);
  });
});

describe('rekey -r to public keys only', { timeout: 120_000 }, () => {
  it('warns that the keys given no longer open the objects, as rekey of one object does; not with --add', async () => {
    const me = join(dir, 'me.age');
    expect((await run(['keygen', '-t', 'x25519', '-o', me, '-q'])).code).toBe(0);
    const publicKey = (await run(['keygen', '-y', me])).stdout.toString().trim();
    await put('pub/a', { clientSide: { keys: [keys.old!] } });
    await put('pub/b', { clientSide: { keys: [keys.old!] } });
    await put('pubadd/a', { clientSide: { keys: [keys.old!] } });
    const rotated = await run([
      'rekey',
      '-r',
      '--key-file',
      keyFiles.old!,
      '--to-recipient',
      publicKey,
      `s3://${bucket}/pub/`,
    ]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toContain(
      `warning: 2 objects under s3://${bucket}/pub/ are now sealed only to public keys`,
    );
    expect((await run(['cat', '--key-file', keyFiles.old!, `s3://${bucket}/pub/a`])).code).toBe(3);
    const added = await run([
      'rekey',
      '-r',
      '--add',
      '--key-file',
      keyFiles.old!,
      '--to-recipient',
      publicKey,
      `s3://${bucket}/pubadd/`,
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).not.toContain('warning');
  });
});

describe('cp -r up to a bucket that does not exist', { timeout: 120_000 }, () => {
  it('stops after the first copies fail: the others are listed as not tried, not failed one by one (exit 5)', async () => {
    const up = join(dir, 'many-up');
    mkdirSync(up);
    for (let i = 0; i < 30; i++) writeFileSync(join(up, `f${String(i).padStart(2, '0')}`), `file ${i}`);
    const r = await run([
      'cp',
      '-r',
      '--json',
      '--parallel',
      '2',
      '--no-encryption',
      up,
      `s3://${bucket}-no-such-bucket/up/`,
    ]);
    expect(r.code, r.stderr).toBe(5);
    const [summary, failure] = jsonLines(r.stdout) as [Record<string, any>, { error: Record<string, any> }];
    expect(summary.files).toEqual([]);
    // the copies in flight when the first failed fail too; no more are started
    expect(summary.failed.length).toBeGreaterThanOrEqual(1);
    expect(summary.failed.length).toBeLessThanOrEqual(2);
    expect(summary.failed.length + summary.notAttempted.length).toBe(30);
    expect(failure.error).toMatchObject({ code: 'BUCKET_NOT_FOUND', exitCode: 5 });
    expect(failure.error.message).toContain('not tried, since every copy would fail the same way');
    expect(r.stderr.split('\n').filter((l) => l.includes('no bucket')).length).toBeLessThanOrEqual(3);
  });
});
