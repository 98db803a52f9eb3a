/**
 * `rekey --add --to-passphrase`, once too often: the header would ask more scrypt work of a reader
 * than `--max-work-factor` allows (SPEC §5.2), and every passphrase of it would be refused. A local
 * file and an object in the store (the local S3 server) are refused alike: exit 2, the same way
 * out, nothing written.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { inspectHeader } from '@sealstream/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { buildCli, run, tempDir } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let dir: string;

// scrypt at logN 12 keeps the test quick; the budget is then 2^13: two stanzas, not three
const WORK = ['--work-factor', '12', '--max-work-factor', '12'];

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  dir = tempDir();
  for (const n of [1, 2, 3]) writeFileSync(join(dir, `p${n}`), `passphrase number ${n}\n`);
  writeFileSync(join(dir, 'plain'), 'a secret worth three passphrases');
});

afterAll(() => cleanup?.());

/** `rekey --add` of TARGET with passphrase p`n` added, opened with p1. */
const addPassphrase = (target: string, n: number) =>
  run([
    'rekey',
    '--passphrase-file',
    join(dir, 'p1'),
    '--add',
    '--to-passphrase-file',
    join(dir, `p${n}`),
    ...WORK,
    target,
  ]);

describe('rekey --add --to-passphrase past the scrypt work budget', { timeout: 120_000 }, () => {
  it('is refused for an object as for a local file: exit 2, same way out, the object unchanged', async () => {
    const sealed = join(dir, 'sealed');
    expect(
      (
        await run([
          'encrypt',
          '--passphrase-file',
          join(dir, 'p1'),
          ...WORK,
          '-o',
          sealed,
          join(dir, 'plain'),
        ])
      ).code,
    ).toBe(0);
    const target = `s3://${bucket}/budget/o`;
    const up = await run(['cp', '--no-encryption', sealed, target]);
    expect(up.code, up.stderr).toBe(0);

    const local = join(dir, 'local');
    copyFileSync(sealed, local);
    expect((await addPassphrase(local, 2)).code).toBe(0);
    const localRefused = await addPassphrase(local, 3);
    expect(localRefused.code, localRefused.stderr).toBe(2);

    expect((await addPassphrase(target, 2)).code).toBe(0);
    const remoteRefused = await addPassphrase(target, 3);
    expect(remoteRefused.code, remoteRefused.stderr).toBe(2);
    expect(remoteRefused.stderr).toContain('3 passphrase stanzas asking for scrypt work');
    expect(remoteRefused.stderr).toContain('--max-work-factor 12');
    const hint = (r: { stderr: string }) =>
      r.stderr.split('\n').find((l) => l.startsWith('sealstream: hint:'));
    expect(hint(remoteRefused)).toBe(hint(localRefused));

    // nothing written: two stanzas, and the first passphrase still opens it within the budget
    const got = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'budget/o', Range: 'bytes=0-4095' }),
    );
    const stanzas = inspectHeader(await got.Body!.transformToByteArray()).recipients;
    expect(stanzas.map((s) => s.type)).toEqual(['passphrase', 'passphrase']);
    const cat = await run(['cat', '--passphrase-file', join(dir, 'p1'), '--max-work-factor', '12', target]);
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdout.toString()).toBe(readFileSync(join(dir, 'plain'), 'utf8'));
  });
});
