/**
 * `cp -r` down from the local S3 server of prefixes whose names a local folder cannot hold as they
 * are, and outputs whose names are near the file system's limit: a name that is both an object
 * and the folder of another is refused before any byte moves (not failed by whichever transfer
 * came second); an object whose name ends in `/` but holds bytes is skipped and named, not left
 * out in silence; a name of 250 bytes is written (its temporary file's name would have been too long).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { buildCli, run, tempDir } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let dir: string;

const putRaw = (key: string, body: string | Uint8Array) =>
  client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  dir = tempDir();
});

afterAll(() => cleanup?.());

describe('cp -r down: names a local folder cannot hold as they are', { timeout: 120_000 }, () => {
  it('an object that is also the folder of another: refused before any byte, both named (exit 2)', async () => {
    await putRaw('both/a', 'the file a');
    await putRaw('both/a/b', 'the file a/b');
    await putRaw('both/c', 'the file c');
    const out = join(dir, 'both');
    mkdirSync(out);
    const r = await run(['cp', '-r', '--parallel', '1', '--no-encryption', `s3://${bucket}/both/`, out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`s3://${bucket}/both/a and s3://${bucket}/both/a/b cannot both be written`);
    expect(readdirSync(out)).toEqual([]);
  });

  it('an object whose name ends in / but holds bytes: skipped and named, in --json too, the others copied', async () => {
    await putRaw('slash/dir/', 'bytes under a folder name');
    await putRaw('slash/empty/', '');
    await putRaw('slash/f', 'a file');
    const out = join(dir, 'slash');
    const r = await run(['cp', '-r', '--json', '--no-encryption', `s3://${bucket}/slash/`, out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`skipped s3://${bucket}/slash/dir/: its name ends in /`);
    const summary = JSON.parse(r.stdout.toString());
    expect(summary.skipped).toEqual([expect.objectContaining({ path: `s3://${bucket}/slash/dir/` })]);
    expect(summary.files).toHaveLength(1);
    expect(readFileSync(join(out, 'f'), 'utf8')).toBe('a file');
    expect(existsSync(join(out, 'dir'))).toBe(false);
  });
});

describe('output names near the limit of 255 bytes', { timeout: 120_000 }, () => {
  const ascii = 'n'.repeat(250);
  // 120 two-byte characters: 240 bytes, cut for the temporary name between characters
  const accented = 'é'.repeat(120);

  it('cp -r down writes objects with such names', async () => {
    const bodies = { [ascii]: randomBytes(1000), [accented]: randomBytes(2000) };
    for (const [name, body] of Object.entries(bodies)) await putRaw(`long/${name}`, body);
    const out = join(dir, 'long');
    const r = await run(['cp', '-r', '--no-encryption', `s3://${bucket}/long/`, out]);
    expect(r.code, r.stderr).toBe(0);
    for (const [name, body] of Object.entries(bodies)) expect(readFileSync(join(out, name))).toEqual(body);
    // no temporary file left
    expect(readdirSync(out).sort()).toEqual(Object.keys(bodies).sort());
  });

  it('a name past the limit: that object fails in words, the others are copied', async () => {
    await putRaw(`toolong/${'x'.repeat(300)}`, 'too long a name');
    await putRaw('toolong/fine', 'fine');
    const out = join(dir, 'toolong');
    const r = await run(['cp', '-r', '--no-encryption', `s3://${bucket}/toolong/`, out]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain('its name is longer than the file system allows (ENAMETOOLONG)');
    expect(r.stderr).toContain('1 of 2 copies failed');
    expect(readdirSync(out)).toEqual(['fine']);
  });

  it('decrypt -o such a name', async () => {
    const key = join(dir, 'key');
    expect((await run(['keygen', '-q', '-o', key])).code).toBe(0);
    const plain = join(dir, 'plain');
    writeFileSync(plain, 'plaintext under a long name');
    const sealed = join(dir, 'sealed');
    expect((await run(['encrypt', '--key-file', key, '-o', sealed, plain])).code).toBe(0);
    const out = join(dir, 'decrypted');
    mkdirSync(out);
    const r = await run(['decrypt', '--key-file', key, '-o', join(out, ascii), sealed]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, ascii), 'utf8')).toBe('plaintext under a long name');
  });
});

describe('cp -r up: a local name that is no object key', { timeout: 120_000 }, () => {
  it('a file name that is not UTF-8 is skipped and named; the other files are copied (was: the whole run failed, exit 5)', async () => {
    const up = join(dir, 'up-bytes');
    mkdirSync(up);
    writeFileSync(join(up, 'good'), 'a good name');
    // the name's bytes as a file system may hold them (Latin-1 and the like), not UTF-8
    writeFileSync(Buffer.from(`${up}/bad\xff`, 'latin1'), 'a name of other bytes');
    const r = await run(['cp', '-r', '--json', '--no-encryption', up, `s3://${bucket}/bytes/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('its name is not valid UTF-8');
    const summary = JSON.parse(r.stdout.toString());
    expect(summary.files.map((f: { destination: string }) => f.destination)).toEqual([
      `s3://${bucket}/bytes/good`,
    ]);
    expect(summary.skipped).toHaveLength(1);
  });
});
