/** `cp`, `cat`, `inspect` and `rekey` against the local S3 server, as a user runs them. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, openUploads, testClient } from '../../sos/test/helpers.ts';
import { buildCli, filesIn, run, storeEnv, tempDir } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let dir: string;
let k1: string;
let k2: string;
let ssec: string;
let plain: Buffer;

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  dir = tempDir();
  [k1, k2, ssec] = ['k1', 'k2', 'ssec'].map((n) => join(dir, n)) as [string, string, string];
  for (const k of [k1, k2, ssec]) expect((await run(['keygen', '-o', k, '-q'])).code).toBe(0);
  plain = randomBytes(12 * 1024 * 1024 + 123); // more than one 8 MiB part
  writeFileSync(join(dir, 'plain'), plain);
});

afterAll(async () => {
  await cleanup?.();
  client?.destroy();
});

describe('cp and cat, client-side', () => {
  it('uploads sealed, reads a range back, downloads and verifies', async () => {
    const up = await run([
      'cp',
      '--key-file',
      k1,
      '--bind',
      '--json',
      join(dir, 'plain'),
      `s3://${bucket}/cs/plain.bin`,
    ]);
    expect(up.code, up.stderr).toBe(0);
    const result = JSON.parse(up.stdout.toString());
    expect(result.files[0].clientSide).toBe(true);
    expect(result.files[0].storedSize).toBeGreaterThan(plain.length);
    // the server holds ciphertext only
    const raw = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'cs/plain.bin', Range: 'bytes=0-9' }),
    );
    expect(Buffer.from(await raw.Body!.transformToByteArray()).toString()).toBe('sealstream');

    const range = await run([
      'cat',
      '--key-file',
      k1,
      '--bind',
      '--range',
      'bytes=9000000-9000999',
      `s3://${bucket}/cs/plain.bin`,
    ]);
    expect(range.code, range.stderr).toBe(0);
    expect(range.stdout.equals(plain.subarray(9_000_000, 9_001_000))).toBe(true);

    const out = tempDir();
    const down = await run([
      'cp',
      '--key-file',
      k2,
      '--key-file',
      k1,
      `s3://${bucket}/cs/plain.bin`,
      `${out}/`,
    ]);
    expect(down.code, down.stderr).toBe(0);
    expect(readFileSync(join(out, 'plain.bin')).equals(plain)).toBe(true);
    expect(filesIn(out)).toEqual(['plain.bin']);
  });

  it('stdin to an object and an object to stdout', async () => {
    const up = await run(['cp', '--key-file', k1, '-', `s3://${bucket}/cs/stdin.bin`], {
      input: plain.subarray(0, 100_000),
    });
    expect(up.code, up.stderr).toBe(0);
    const down = await run(['cp', '--key-file', k1, `s3://${bucket}/cs/stdin.bin`, '-']);
    expect(down.stdout.equals(plain.subarray(0, 100_000))).toBe(true);
  });

  it('wrong key: exit 3 and no file; missing object: exit 5; unreachable store: exit 6', async () => {
    const out = tempDir();
    const wrong = await run(['cp', '--key-file', k2, `s3://${bucket}/cs/plain.bin`, join(out, 'x')]);
    expect(wrong.code).toBe(3);
    expect(filesIn(out)).toEqual([]);
    const missing = await run(['cat', '--key-file', k1, `s3://${bucket}/cs/nothing-here`]);
    expect(missing.code).toBe(5);
    const noBucket = await run([
      'cp',
      '--key-file',
      k1,
      join(dir, 'plain'),
      's3://no-such-bucket-sealstream/x',
    ]);
    expect(noBucket.code).toBe(5);
    const down = await run(['cp', '--no-encryption', join(dir, 'k1'), `s3://${bucket}/x`], {
      env: storeEnv({ AWS_ENDPOINT_URL_S3: 'https://127.0.0.1:9' }),
    });
    expect(down.code).toBe(6);
    const noEndpoint = await run(['cp', '--key-file', k1, join(dir, 'k1'), `s3://${bucket}/x`], {
      env: storeEnv({ AWS_ENDPOINT_URL_S3: '' }),
    });
    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toContain('no endpoint');
    const badCreds = await run(['cat', `s3://${bucket}/cs/stdin.bin`], {
      env: storeEnv({ AWS_SECRET_ACCESS_KEY: 'wrong' }),
    });
    expect(badCreds.code).toBe(3);
  });

  it('a tampered object: exit 4, nothing written', async () => {
    const sealed = (await run(['encrypt', '--key-file', k1], { input: plain.subarray(0, 200_000) })).stdout;
    sealed[150_000]! ^= 0x80;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cs/tampered', Body: sealed }));
    const out = tempDir();
    const r = await run(['cp', '--key-file', k1, `s3://${bucket}/cs/tampered`, join(out, 'x')]);
    expect(r.code).toBe(4);
    expect(filesIn(out)).toEqual([]);
  });

  it('passphrase work factors: uploads above the reader limit need confirming, reads need the limit raised', async () => {
    const pass = join(dir, 'pass');
    writeFileSync(pass, 'remote work factor passphrase\n');
    const high = await run([
      'cp',
      '--passphrase-file',
      pass,
      '--work-factor',
      '21',
      join(dir, 'k1'),
      `s3://${bucket}/wf/high`,
    ]);
    expect(high.code).toBe(2);
    expect(high.stderr).toContain('confirm with --max-work-factor 21');
    const up = await run([
      'cp',
      '--passphrase-file',
      pass,
      '--work-factor',
      '12',
      join(dir, 'plain'),
      `s3://${bucket}/wf/12`,
    ]);
    expect(up.code, up.stderr).toBe(0);
    const low = await run([
      'cat',
      '--passphrase-file',
      pass,
      '--max-work-factor',
      '11',
      `s3://${bucket}/wf/12`,
    ]);
    expect(low.code).toBe(3);
    expect(low.stderr).toContain('--max-work-factor');
    const range = await run([
      'cat',
      '--passphrase-file',
      pass,
      '--max-work-factor',
      '12',
      '--range',
      'bytes=100-199',
      `s3://${bucket}/wf/12`,
    ]);
    expect(range.code, range.stderr).toBe(0);
    expect(range.stdout.equals(plain.subarray(100, 200))).toBe(true);
    const rekey = ['rekey', '--passphrase-file', pass, '--to-key-file', k2, `s3://${bucket}/wf/12`];
    expect((await run([...rekey, '--max-work-factor', '11'])).code).toBe(3);
    expect((await run([...rekey, '--max-work-factor', '12'])).code).toBe(0);
  });

  it('inspect an object without its key', async () => {
    const r = await run(['inspect', '--json', `s3://${bucket}/cs/plain.bin`]);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout.toString());
    expect(info).toMatchObject({
      sealstream: true,
      version: 1,
      suite: 'cobblestone-256',
      chunkSize: 16384,
      plaintextSize: plain.length,
    });
    expect(info.identity).toBe(`${bucket}/cs/plain.bin`);
    expect(info.keyIds).toHaveLength(1);
  });
});

describe('SSE-C', () => {
  it('uploads with SSE-C (alone and with client-side), reads back, says what it can without the key', async () => {
    const up = await run(['cp', '--sse-c-file', ssec, join(dir, 'plain'), `s3://${bucket}/ssec/plain.bin`]);
    expect(up.code, up.stderr).toBe(0);
    const range = await run([
      'cat',
      '--sse-c-file',
      ssec,
      '--range',
      'bytes=100-199',
      `s3://${bucket}/ssec/plain.bin`,
    ]);
    expect(range.stdout.equals(plain.subarray(100, 200))).toBe(true);
    const noKey = await run(['cat', `s3://${bucket}/ssec/plain.bin`]);
    expect(noKey.code).toBe(3);
    expect(noKey.stderr).toContain('--sse-c-file');
    const wrong = await run(['cat', '--sse-c-file', k1, `s3://${bucket}/ssec/plain.bin`]);
    expect(wrong.code).toBe(3);
    const inspect = await run(['inspect', '--json', `s3://${bucket}/ssec/plain.bin`]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout.toString())).toMatchObject({
      size: plain.length,
      sseC: { required: true },
    });

    const both = await run([
      'cp',
      '--sse-c-file',
      ssec,
      '--key-file',
      k1,
      join(dir, 'plain'),
      `s3://${bucket}/both/plain.bin`,
    ]);
    expect(both.code, both.stderr).toBe(0);
    const look = await run(['inspect', '--json', '--sse-c-file', ssec, `s3://${bucket}/both/plain.bin`]);
    expect(JSON.parse(look.stdout.toString())).toMatchObject({
      sealstream: true,
      plaintextSize: plain.length,
    });
    const back = await run(['cat', '--sse-c-file', ssec, '--key-file', k1, `s3://${bucket}/both/plain.bin`]);
    expect(back.stdout.equals(plain)).toBe(true);
  });

  it('--encrypt-key maps keys by prefix, mc style, and a key on the command line warns', async () => {
    const a = readFileSync(k1, 'utf8').trim();
    const b = Buffer.from(readFileSync(k2, 'utf8').trim(), 'base64').toString('hex');
    const map = `s3/${bucket}/a/=${a},s3/${bucket}/b/=${b}`;
    const up = await run(['cp', '--encrypt-key', map, join(dir, 'k1'), `s3://${bucket}/b/file`]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain('warning');
    expect(up.stderr).not.toContain(a);
    expect(up.stderr).not.toContain(b);
    const back = await run(['cat', `s3://${bucket}/b/file`], {
      env: storeEnv({ SEALSTREAM_ENCRYPT_KEY: map }),
    });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).not.toContain('warning');
    expect(back.stdout.toString()).toBe(readFileSync(k1, 'utf8'));
    const withSseCKey = await run(['cat', '--sse-c-file', k2, `s3://${bucket}/b/file`]);
    expect(withSseCKey.code).toBe(0);
  });
});

describe('no plaintext by omission', () => {
  async function exists(key: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return false;
      throw err;
    }
  }

  it('an upload without any key fails and names --no-encryption; with it, the data is stored as it is', async () => {
    const r = await run(['cp', join(dir, 'k1'), `s3://${bucket}/plain/none`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to store s3://');
    expect(r.stderr).toContain('--no-encryption');
    expect(await exists('plain/none')).toBe(false);
    const stdin = await run(['cp', '-', `s3://${bucket}/plain/stdin`], { input: 'secret' });
    expect(stdin.code).toBe(2);
    expect(await exists('plain/stdin')).toBe(false);
    const tree = tempDir();
    writeFileSync(join(tree, 'a'), 'a');
    const rec = await run(['cp', '-r', tree, `s3://${bucket}/plain/tree`]);
    expect(rec.code).toBe(2);
    expect(await exists('plain/tree/a')).toBe(false);
    const ok = await run(['cp', '--no-encryption', join(dir, 'k1'), `s3://${bucket}/plain/none`]);
    expect(ok.code, ok.stderr).toBe(0);
    const raw = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain/none' }));
    expect(Buffer.from(await raw.Body!.transformToByteArray()).equals(readFileSync(k1))).toBe(true);
    const both = await run([
      'cp',
      '--no-encryption',
      '--key-file',
      k1,
      join(dir, 'k1'),
      `s3://${bucket}/plain/x`,
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--no-encryption');
  });

  it('a key map that covers nothing fails with SSE_C_NO_KEY_FOR_PATH (exit 3), before any byte is stored', async () => {
    const key = readFileSync(ssec, 'utf8').trim();
    const cases = [
      [`s3/${bucket}-typo=${key}`, 'typo/x'], // a typo in the bucket
      [`s3/${bucket}/reports/=${key}`, 'report/x'], // reports/ vs report/
    ] as const;
    for (const [map, objectKey] of cases) {
      for (const how of ['env', 'flag'] as const) {
        const r =
          how === 'env'
            ? await run(['cp', join(dir, 'k1'), `s3://${bucket}/${objectKey}`], {
                env: storeEnv({ SEALSTREAM_ENCRYPT_KEY: map }),
              })
            : await run(['cp', '--encrypt-key', map, join(dir, 'k1'), `s3://${bucket}/${objectKey}`]);
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toContain(`no SSE-C key in the key map`);
        expect(r.stderr).toContain(`covers s3/${bucket}/${objectKey}`);
        expect(r.stderr).toContain('--no-encryption');
        expect(r.stderr).not.toContain(key);
        expect(await exists(objectKey)).toBe(false);
      }
    }
    // a recursive upload that the map covers only in part stores nothing
    const tree = tempDir();
    mkdirSync(join(tree, 'reports'));
    writeFileSync(join(tree, 'reports', 'a'), 'a');
    writeFileSync(join(tree, 'other'), 'b');
    const part = await run(['cp', '-r', tree, `s3://${bucket}/partial`], {
      env: storeEnv({ SEALSTREAM_ENCRYPT_KEY: `s3/${bucket}/partial/reports/=${key}` }),
    });
    expect(part.code, part.stderr).toBe(3);
    expect(await exists('partial/reports/a')).toBe(false);
    expect(await exists('partial/other')).toBe(false);
    // reads follow the same rule
    const cat = await run(['cat', `s3://${bucket}/plain/none`], {
      env: storeEnv({ SEALSTREAM_ENCRYPT_KEY: `s3/${bucket}/reports/=${key}` }),
    });
    expect(cat.code).toBe(3);
    expect(cat.stderr).toContain('no SSE-C key in the key map');
  });

  it("a map entry under the user's own alias (mc's habit) covers s3:// URLs; one for another bucket is an error, not a silent skip", async () => {
    const key = readFileSync(ssec, 'utf8').trim();
    for (const alias of ['minio', 'S3']) {
      const r = await run(['cp', '--json', join(dir, 'k1'), `s3://${bucket}/alias/${alias}`], {
        env: storeEnv({ SEALSTREAM_ENCRYPT_KEY: `${alias}/${bucket}=${key}` }),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.toString()).files[0].sseC).toBe(true);
      expect(r.stderr).not.toContain(key);
    }
    const other = await run(['cp', join(dir, 'k1'), `s3://${bucket}/alias/x`], {
      env: storeEnv({ SEALSTREAM_ENCRYPT_KEY: `minio/not-${bucket}=${key}` }),
    });
    expect(other.code, other.stderr).toBe(3);
    expect(other.stderr).not.toContain(key);
    expect(await exists('alias/x')).toBe(false);
  });
});

describe('recursive', () => {
  it('copies a folder up and down with bounded concurrency', async () => {
    const tree = tempDir();
    mkdirSync(join(tree, 'sub/deeper'), { recursive: true });
    const files: Record<string, Buffer> = {
      'a.txt': randomBytes(10),
      'sub/b.bin': randomBytes(70_000),
      'sub/deeper/c.bin': randomBytes(1),
      empty: Buffer.alloc(0),
    };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tree, name), data);
    const up = await run([
      'cp',
      '-r',
      '--parallel',
      '2',
      '--key-file',
      k1,
      '--json',
      tree,
      `s3://${bucket}/tree`,
    ]);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout.toString()).files).toHaveLength(4);
    const out = tempDir();
    const down = await run(['cp', '-r', '--key-file', k1, `s3://${bucket}/tree/`, out]);
    expect(down.code, down.stderr).toBe(0);
    for (const [name, data] of Object.entries(files))
      expect(readFileSync(join(out, name)).equals(data)).toBe(true);
    const oneFails = await run(['cp', '-r', '--key-file', k2, `s3://${bucket}/tree/`, tempDir()]);
    expect(oneFails.code).toBe(3);
  });
});

describe('rekey', () => {
  it('rotates client-side keys and SSE-C keys of objects', async () => {
    await run(['cp', '--key-file', k1, join(dir, 'plain'), `s3://${bucket}/rk/cs.bin`]);
    const r = await run([
      'rekey',
      '--key-file',
      k1,
      '--to-key-file',
      k2,
      '--json',
      `s3://${bucket}/rk/cs.bin`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.toString()).keyIds).toHaveLength(1);
    expect((await run(['cat', '--key-file', k1, `s3://${bucket}/rk/cs.bin`])).code).toBe(3);
    expect((await run(['cat', '--key-file', k2, `s3://${bucket}/rk/cs.bin`])).stdout.equals(plain)).toBe(
      true,
    );

    await run(['cp', '--sse-c-file', ssec, join(dir, 'k1'), `s3://${bucket}/rk/ssec.bin`]);
    const s = await run(['rekey', '--sse-c-file', ssec, '--to-sse-c-file', k1, `s3://${bucket}/rk/ssec.bin`]);
    expect(s.code, s.stderr).toBe(0);
    expect((await run(['cat', '--sse-c-file', ssec, `s3://${bucket}/rk/ssec.bin`])).code).toBe(3);
    expect((await run(['cat', '--sse-c-file', k1, `s3://${bucket}/rk/ssec.bin`])).stdout.toString()).toBe(
      readFileSync(k1, 'utf8'),
    );
    expect(await openUploads(client, bucket)).toBe(0);
  });
});
