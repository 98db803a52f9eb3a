/**
 * A download or `cat` without any client-side key writes an object as it is stored: for sealstream
 * data that is ciphertext, which the run now says (a warning; exit 0, the bytes unchanged) instead
 * of reporting `copied ... 191 MiB` as if the user had the plaintext. Against the local RGW.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { buildCli, run, tempDir } from './helpers.ts';

let dir: string;
let key: string;
let sealed: Buffer;
let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;

const WARNING = /warning: .* is sealstream data \(client-side encrypted\) and no key was given/;

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  key = join(dir, 'key');
  expect((await run(['keygen', '-q', '-o', key])).code).toBe(0);
  writeFileSync(join(dir, 'plain'), randomBytes(200_000));
  expect(
    (await run(['encrypt', '-q', '--key-file', key, '-o', join(dir, 'sealed'), join(dir, 'plain')])).code,
  ).toBe(0);
  sealed = readFileSync(join(dir, 'sealed'));
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  expect((await run(['cp', '-q', '--key-file', key, join(dir, 'plain'), `s3://${bucket}/sealed`])).code).toBe(
    0,
  );
  expect((await run(['cp', '-q', '--no-encryption', join(dir, 'plain'), `s3://${bucket}/plain`])).code).toBe(
    0,
  );
});

afterAll(async () => {
  await cleanup?.();
  client?.destroy();
});

describe('sealstream data read without a key', () => {
  it('cat of a sealed file: the bytes as they are, exit 0, and a warning that they are still encrypted', async () => {
    const r = await run(['cat', '-q', join(dir, 'sealed')]);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(sealed)).toBe(true);
    expect(r.stderr).toMatch(WARNING);
  });

  it('cp and cat of a sealed object: warned; with the key, or for a plain object, no warning', async () => {
    const out = join(dir, 'downloaded');
    const copied = await run(['cp', '-q', `s3://${bucket}/sealed`, out]);
    expect(copied.code).toBe(0);
    expect(copied.stderr).toMatch(WARNING);
    expect(readFileSync(out).subarray(0, 10).toString()).toBe('sealstream');
    const catted = await run(['cat', '-q', `s3://${bucket}/sealed`]);
    expect(catted.code).toBe(0);
    expect(catted.stderr).toMatch(WARNING);

    for (const args of [
      ['cp', '-q', '--key-file', key, `s3://${bucket}/sealed`, join(dir, 'opened')],
      ['cp', '-q', `s3://${bucket}/plain`, join(dir, 'plain-copy')],
      ['cat', '-q', `s3://${bucket}/plain`],
      ['cat', '-q', join(dir, 'plain')],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
    }
    expect(readFileSync(join(dir, 'opened')).equals(readFileSync(join(dir, 'plain')))).toBe(true);
  });

  it('cp --json says it too: stillEncrypted on the file of a sealed object copied without a key', async () => {
    const json = async (args: string[]) => {
      const r = await run(['cp', '--json', ...args]);
      expect(r.code, args.join(' ')).toBe(0);
      return JSON.parse(r.stdout.toString()).files[0];
    };
    expect(await json([`s3://${bucket}/sealed`, join(dir, 'as-stored')])).toMatchObject({
      clientSide: false,
      stillEncrypted: true,
    });
    const opened = await json(['--key-file', key, `s3://${bucket}/sealed`, join(dir, 'opened-json')]);
    expect(opened.clientSide).toBe(true);
    expect(opened.stillEncrypted).toBeUndefined();
    expect((await json([`s3://${bucket}/plain`, join(dir, 'plain-json')])).stillEncrypted).toBeUndefined();
  });
});
