/**
 * `cp -r` down from a prefix of more objects than one listing page holds (the store lists 1,000 at
 * a time), against the local S3 server: every object of every page is copied, byte for byte, and
 * the summary counts them all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClient } from '../../sos/test/helpers.ts';
import { buildCli, run, tempDir } from './helpers.ts';

const COUNT = 1_234;
let client: S3Client;
const bucket = `x11-recursive-pages-${process.pid}-${Date.now().toString(36)}`;
/** Object name to body, e.g. `f/07/0007` -> `object 7`. */
const bodies = new Map<string, string>();

beforeAll(async () => {
  buildCli();
  client = testClient();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  for (let i = 0; i < COUNT; i++) {
    const n = String(i).padStart(4, '0');
    bodies.set(`f/${n.slice(0, 2)}/${n}`, `object ${i}`);
  }
  const names = [...bodies.keys()];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < names.length) {
        const name = names[next++]!;
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: `pages/${name}`, Body: bodies.get(name)! }),
        );
      }
    }),
  );
}, 300_000);

afterAll(async () => {
  // more than one page to delete: the shared helper empties one
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  client.destroy();
}, 300_000);

/** Every file under `dir`, as slash-separated paths relative to it. */
function filesUnder(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    return e.isDirectory() ? filesUnder(dir, path) : [path];
  });
}

describe(`cp -r down of ${COUNT} objects (two listing pages)`, { timeout: 300_000 }, () => {
  it('copies every one, byte for byte, and counts them all', async () => {
    const out = join(tempDir(), 'out');
    const r = await run(['cp', '-r', '--json', '--parallel', '16', `s3://${bucket}/pages/`, out]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.toString());
    expect(summary.files).toHaveLength(COUNT);
    expect(summary.failed).toEqual([]);
    const files = filesUnder(out).sort();
    expect(files).toEqual([...bodies.keys()].sort());
    for (const [name, body] of bodies) expect(readFileSync(join(out, name), 'utf8')).toBe(body);
  });
});
