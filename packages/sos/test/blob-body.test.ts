/**
 * Blob bodies (a Node `fs.openAsBlob`, as a browser's picked `File`) that change under the reader:
 * SOURCE_CHANGED, the upload aborted and nothing stored, never an object that is no copy of the file
 * or the runtime's bare NotReadableError. Against the real store over TLS; the browser's side is in
 * browser/test/sos-blob.test.ts.
 */
import { openAsBlob } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { BLOB_SLICE } from '../src/blob-source.ts';
import { openBody } from '../src/body.ts';
import { type Encryption, getObject, putObject } from '../src/index.ts';
import {
  bytes,
  collect,
  objectExists,
  openUploads,
  sameBytes,
  scratchDir,
  useTestBucket,
} from './helpers.ts';

const MiB = 1024 * 1024;
const dir = scratchDir('blob-body');
let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

/** A Blob whose slices give `short` bytes fewer than asked: a file that shrank under the reader. */
class ShrinkingBlob extends Blob {
  readonly #short: number;
  constructor(parts: ConstructorParameters<typeof Blob>[0], short: number) {
    super(parts);
    this.#short = short;
  }
  override slice(start?: number, end?: number): Blob {
    const whole = super.slice(start, end);
    return whole.slice(0, Math.max(0, whole.size - this.#short));
  }
}

/** A Blob whose slices give `extra` bytes more than asked: a file that grew under the reader. */
class GrowingBlob extends Blob {
  readonly #extra: number;
  constructor(parts: ConstructorParameters<typeof Blob>[0], extra: number) {
    super(parts);
    this.#extra = extra;
  }
  override slice(start?: number, end?: number): Blob {
    return new Blob([super.slice(start, end), new Uint8Array(this.#extra)]);
  }
}

/** Rewrites `path` with other bytes of the same length, and a later modification time. */
async function changeInPlace(path: string, length: number): Promise<void> {
  await writeFile(
    path,
    bytes(length).map((b) => b ^ 0xff),
  );
  const { utimes } = await import('node:fs/promises');
  const later = new Date(Date.now() + 10_000);
  await utimes(path, later, later);
}

describe('openBody of a Blob', () => {
  it('reads every byte of a Blob larger than a slice, in order', async () => {
    const data = bytes(2 * BLOB_SLICE + 12345);
    const opened = openBody(new Blob([data]));
    expect(opened.size).toBe(data.length);
    expect(sameBytes(await collect(opened.body as ReadableStream<Uint8Array>), data)).toBe(true);
  });

  it('a Blob that gives fewer bytes than its size: SOURCE_CHANGED saying so', async () => {
    const opened = openBody(new ShrinkingBlob([bytes(3 * MiB)], 10));
    await expect(collect(opened.body as ReadableStream<Uint8Array>)).rejects.toMatchObject({
      code: 'SOURCE_CHANGED',
      message: expect.stringMatching(/gave \d+ bytes, not 3145728/),
    });
  });

  it('a Blob that gives more bytes than its size: SOURCE_CHANGED saying so', async () => {
    const opened = openBody(new GrowingBlob([bytes(MiB)], 7));
    await expect(collect(opened.body as ReadableStream<Uint8Array>)).rejects.toMatchObject({
      code: 'SOURCE_CHANGED',
      message: expect.stringMatching(/more than its 1048576 bytes/),
    });
  });

  it('a file changed after openAsBlob: SOURCE_CHANGED with the runtime error as cause', async () => {
    const path = join(dir, 'changed-before.bin');
    await writeFile(path, bytes(MiB));
    const blob = await openAsBlob(path);
    await changeInPlace(path, MiB);
    const err = await collect(openBody(blob).body as ReadableStream<Uint8Array>).catch((e) => e);
    expect(err).toMatchObject({ code: 'SOURCE_CHANGED' });
    expect((err as Error).message).toMatch(/nothing was stored/);
    expect((err as { cause?: Error }).cause?.name).toBe('NotReadableError');
  });
});

const modes: [string, () => Encryption][] = [
  ['plain', () => 'none'],
  ['client-side', () => ({ clientSide: { keys: [generateKey()] } })],
];

describe.each(modes)('putObject of a file-backed Blob (%s)', (label, encryption) => {
  it('unchanged: stored byte for byte', async () => {
    const path = join(dir, `${label}-same.bin`);
    const data = bytes(6 * MiB + 5);
    await writeFile(path, data);
    const enc = encryption();
    const key = `${label}/same`;
    await putObject({
      client,
      bucket,
      key,
      body: await openAsBlob(path),
      encryption: enc,
      partSize: 5 * MiB,
    });
    const got = await getObject({ client, bucket, key, encryption: enc });
    expect(sameBytes(await collect(got.body), data)).toBe(true);
  });

  it('changed after it was opened, in one PutObject and in a multipart upload: SOURCE_CHANGED, nothing stored, no upload left', async () => {
    for (const [name, size] of [
      ['single', MiB],
      ['multi', 12 * MiB],
    ] as const) {
      const path = join(dir, `${label}-${name}.bin`);
      await writeFile(path, bytes(size));
      const blob = await openAsBlob(path);
      await changeInPlace(path, size);
      const key = `${label}/changed-${name}`;
      await expect(
        putObject({ client, bucket, key, body: blob, encryption: encryption(), partSize: 5 * MiB }),
      ).rejects.toMatchObject({ code: 'SOURCE_CHANGED' });
      expect(await objectExists(client, bucket, key)).toBe(false);
    }
    expect(await openUploads(client, bucket)).toBe(0);
  });
});
