/**
 * `rekey -r` with SSE-C key maps against the local S3 server, as a user who types maps by hand:
 * the new map (`--to-encrypt-key`) is read as `--encrypt-key` is (mc's own alias, 32-character
 * keys), and a map that does not cover an SSE-C object fails that object (exit 3) instead of
 * leaving it on the old key in a run that exits 0; the others are rotated all the same.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { formatKey, parseKey } from '@sealstream/core';
import { type Encryption, getObject, putObject } from '@sealstream/sos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, collect, freshBucket, testClient } from '../../sos/test/helpers.ts';
import { buildCli, run, tempDir } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let dir: string;
const keyFiles: Record<string, string> = {};
const keys: Record<string, Uint8Array> = {};
const plain = new Map<string, Uint8Array>();

const sse = (key: Uint8Array): Encryption => ({ sseC: { key } });

async function put(key: string, encryption: Encryption): Promise<void> {
  const body = new Uint8Array(randomBytes(500 + plain.size));
  await putObject({ client, bucket, key, body, encryption });
  plain.set(key, body);
}

/** True when `key` opens the object and gives back what was stored. */
async function opensWith(key: string, sseKey: Uint8Array): Promise<boolean> {
  const got = await getObject({ client, bucket, key, encryption: sse(sseKey) });
  return Buffer.from(await collect(got.body)).equals(Buffer.from(plain.get(key)!));
}

/** The run's summary: the first JSON line (a failed run's error follows it). */
function summaryOf(stdout: Buffer) {
  return JSON.parse(stdout.toString().split('\n')[0]!);
}

/** Every text form of the keys, none of which may reach the terminal. */
function secrets(): string[] {
  return Object.values(keys).flatMap((k) => [formatKey(k), Buffer.from(k).toString('hex')]);
}

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  dir = tempDir();
  for (const name of ['old', 'new']) {
    keyFiles[name] = join(dir, name);
    expect((await run(['keygen', '-q', '-o', keyFiles[name]!])).code).toBe(0);
    keys[name] = parseKey(readFileSync(keyFiles[name]!, 'utf8').trim());
  }
  // mc's older keys: 32 characters taken as the key's bytes
  keys.ascii = new Uint8Array(Buffer.from('0123456789abcdefghijklmnopqrstuv'));
});

afterAll(() => cleanup?.());

describe('rekey -r with SSE-C key maps', { timeout: 120_000 }, () => {
  it("reads --to-encrypt-key as --encrypt-key: the user's own alias and a 32-character key", async () => {
    await put('alias/a', sse(keys.old!));
    await put('alias/b', sse(keys.old!));
    const r = await run([
      'rekey',
      '-r',
      '--json',
      '--encrypt-key',
      `myminio/${bucket}/alias/=${formatKey(keys.old!)}`,
      '--to-encrypt-key',
      `myminio/${bucket}/alias/=0123456789abcdefghijklmnopqrstuv`,
      `s3://${bucket}/alias/`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r.stdout)).toMatchObject({ objects: 2, rekeyed: 2, rekeyedSseC: 2 });
    expect(await opensWith('alias/a', keys.ascii!)).toBe(true);
    expect(await opensWith('alias/b', keys.ascii!)).toBe(true);
  });

  it('a new map that does not cover an SSE-C object fails it (exit 3); the covered ones are rotated', async () => {
    await put('part/covered', sse(keys.old!));
    await put('part/typo', sse(keys.old!));
    const r = await run([
      'rekey',
      '-r',
      '--json',
      '--sse-c-file',
      keyFiles.old!,
      '--to-encrypt-key',
      `s3/${bucket}/part/covered=${formatKey(keys.new!)}`,
      `s3://${bucket}/part/`,
    ]);
    expect(r.code, r.stderr).toBe(3);
    const summary = summaryOf(r.stdout);
    expect(summary).toMatchObject({ objects: 2, rekeyed: 1 });
    expect(summary.failed).toEqual([
      expect.objectContaining({ target: `s3://${bucket}/part/typo`, exitCode: 3 }),
    ]);
    expect(summary.failed[0].error).toContain('--to-encrypt-key');
    expect(await opensWith('part/covered', keys.new!)).toBe(true);
    // left as it was, on the key the user still has
    expect(await opensWith('part/typo', keys.old!)).toBe(true);
    for (const secret of secrets()) expect(r.stderr + r.stdout.toString()).not.toContain(secret);
  });

  it('a new map with a typo in its prefix rotates nothing and says so with exit 3, not 0', async () => {
    await put('typo/a', sse(keys.old!));
    await put('typo/b', sse(keys.old!));
    const r = await run([
      'rekey',
      '-r',
      '--sse-c-file',
      keyFiles.old!,
      '--to-encrypt-key',
      `s3/${bucket}/tpyo/=${formatKey(keys.new!)}`,
      `s3://${bucket}/typo/`,
    ]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('no SSE-C key in the key map (--to-encrypt-key) covers');
    expect(r.stderr).toContain('2 of 2 objects could not be rekeyed');
    expect(await opensWith('typo/a', keys.old!)).toBe(true);
    for (const secret of secrets()) expect(r.stderr).not.toContain(secret);
  });

  it('an old map that does not cover an SSE-C object fails it too (exit 3)', async () => {
    await put('oldtypo/a', sse(keys.old!));
    const r = await run([
      'rekey',
      '-r',
      '--json',
      '--encrypt-key',
      `s3/${bucket}/oldtpyo/=${formatKey(keys.old!)}`,
      '--to-sse-c-file',
      keyFiles.new!,
      `s3://${bucket}/oldtypo/`,
    ]);
    expect(r.code, r.stderr).toBe(3);
    expect(summaryOf(r.stdout).failed).toEqual([
      expect.objectContaining({ target: `s3://${bucket}/oldtypo/a`, exitCode: 3 }),
    ]);
    expect(await opensWith('oldtypo/a', keys.old!)).toBe(true);
  });

  it('the summary is printed one line at a time (no escaped newline inside a line)', async () => {
    await put('lines/a', sse(keys.old!));
    await put('lines/plain', 'none');
    const r = await run([
      'rekey',
      '-r',
      '--sse-c-file',
      keyFiles.old!,
      '--to-sse-c-file',
      keyFiles.new!,
      `s3://${bucket}/lines/`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('\\n');
    const lines = r.stderr.split('\n');
    expect(lines.some((l) => l.startsWith(`rekey -r s3://${bucket}/lines/: 1 of 2 objects rekeyed`))).toBe(
      true,
    );
    expect(lines).toContain('  left as they are: 1 plaintext (rekey changes keys, not layers)');
    expect(await codeOf(getObject({ client, bucket, key: 'lines/a', encryption: sse(keys.old!) }))).toBe(
      'SSE_C_KEY_MISMATCH',
    );
  });

  it('rekey with client-side keys only of an object stored with SSE-C too: exit 3, the key is missing (was: exit 6, "400 error")', async () => {
    const clientKey = join(dir, 'client');
    expect((await run(['keygen', '-q', '-o', clientKey])).code).toBe(0);
    const target = `s3://${bucket}/both/o`;
    const up = await run(['cp', '--key-file', clientKey, '--sse-c-file', keyFiles.old!, '-', target], {
      input: 'both layers',
    });
    expect(up.code, up.stderr).toBe(0);
    const r = await run(['rekey', '--key-file', clientKey, '--to-key-file', keyFiles.new!, target]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('stored with SSE-C and the request carried no key');
    expect(r.stderr).toContain('--sse-c-file');
  });
});

describe('rekey of an object to public keys only', { timeout: 120_000 }, () => {
  it('is warned, as for a local file: the keys given no longer open it; not with --add', async () => {
    const me = join(dir, 'me.age');
    expect((await run(['keygen', '-t', 'x25519', '-o', me, '-q'])).code).toBe(0);
    const publicKey = (await run(['keygen', '-y', me])).stdout.toString().trim();
    for (const name of ['pub/only', 'pub/added']) await put(name, { clientSide: { keys: [keys.old!] } });
    const target = `s3://${bucket}/pub/only`;
    const rotated = await run(['rekey', '--key-file', keyFiles.old!, '--to-recipient', publicKey, target]);
    expect(rotated.code, rotated.stderr.toString()).toBe(0);
    expect(rotated.stderr.toString()).toContain(`warning: ${target} is now sealed only to public keys`);
    expect((await run(['cat', '--key-file', keyFiles.old!, target])).code).toBe(3);
    expect((await run(['cat', '-i', me, target])).stdout).toEqual(Buffer.from(plain.get('pub/only')!));
    const added = await run([
      'rekey',
      '--key-file',
      keyFiles.old!,
      '--add',
      '--to-recipient',
      publicKey,
      `s3://${bucket}/pub/added`,
    ]);
    expect(added.code, added.stderr.toString()).toBe(0);
    expect(added.stderr.toString()).not.toContain('warning');
  });
});
