/**
 * Upload bodies handed over in a state other than fresh (cancelled, closed, errored, destroyed,
 * locked), or failing mid-way: never an empty or partial object reported as stored. Against the
 * real store over TLS.
 */
import { appendFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { fileBody } from '../src/body.node.ts';
import { type Encryption, putObject } from '../src/index.ts';
import { bytes, codeOf, objectExists, openUploads, scratchDir, useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;
const dir = scratchDir('body-states');
let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

const exists = (key: string) => objectExists(client, bucket, key);

/** A web stream of `pieces` 1 MiB pieces that errors instead of giving piece `failAt`. */
function webPieces(pieces: number, failAt?: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === failAt) return controller.error(new Error('source failed'));
      if (i === pieces) return controller.close();
      i++;
      controller.enqueue(bytes(MiB));
    },
  });
}

const modes: [string, () => Encryption][] = [
  ['plain', () => 'none'],
  ['client-side', () => ({ clientSide: { keys: [generateKey()] } })],
];

describe.each(modes)('bodies in a bad state (%s)', (label, encryption) => {
  const put = (key: string, body: unknown, extra: object = {}) =>
    putObject({
      client,
      bucket,
      key: `${label}/${key}`,
      body: body as never,
      encryption: encryption(),
      ...extra,
    });
  const stored = (key: string) => exists(`${label}/${key}`);

  it('a web stream errored before the upload: its failure, nothing stored', async () => {
    const stream = new ReadableStream({ start: (c) => c.error(new Error('broken before')) });
    await expect(put('web-errored', stream)).rejects.toThrow(/broken before/);
    expect(await stored('web-errored')).toBe(false);
  });

  it('a web stream that errors mid-way, in one PutObject and in a multipart upload: nothing stored, no upload left', async () => {
    await expect(put('web-mid-single', webPieces(3, 2))).rejects.toThrow(/source failed/);
    await expect(put('web-mid-multi', webPieces(30, 17), { partSize: 5 * MiB })).rejects.toThrow(
      /source failed/,
    );
    expect(await stored('web-mid-single')).toBe(false);
    expect(await stored('web-mid-multi')).toBe(false);
    expect(await openUploads(client, bucket)).toBe(0);
  });

  it('a locked web stream: INVALID_ARGUMENT, nothing stored', async () => {
    const stream = webPieces(1);
    stream.getReader();
    expect(await codeOf(put('web-locked', stream))).toBe('INVALID_ARGUMENT');
    expect(await stored('web-locked')).toBe(false);
  });

  it('a Node Readable destroyed with an error, or errored and kept (autoDestroy off): refused, nothing stored', async () => {
    const destroyed = new Readable({ read() {} });
    destroyed.on('error', () => {});
    destroyed.destroy(new Error('destroyed with an error'));
    expect(await codeOf(put('node-destroyed-error', destroyed))).toBe('INVALID_ARGUMENT');
    const kept = new Readable({ autoDestroy: false, read() {} });
    kept.on('error', () => {});
    kept.push(null);
    kept.push(Buffer.from('after the end'));
    await expect(put('node-kept-error', kept)).rejects.toThrow(/after EOF/);
    expect(await stored('node-destroyed-error')).toBe(false);
    expect(await stored('node-kept-error')).toBe(false);
  });

  it('a Node Readable that errors mid-way in one PutObject and in a multipart upload: nothing stored, no upload left', async () => {
    const failing = (pieces: number, failAt: number) => {
      let i = 0;
      return new Readable({
        read() {
          if (i === failAt) return this.destroy(new Error('node source failed'));
          if (i++ === pieces) return this.push(null);
          this.push(bytes(MiB));
        },
      });
    };
    await expect(put('node-mid-single', failing(3, 2))).rejects.toThrow(/node source failed/);
    await expect(put('node-mid-multi', failing(30, 17), { partSize: 5 * MiB })).rejects.toThrow(
      /node source failed/,
    );
    expect(await stored('node-mid-single')).toBe(false);
    expect(await stored('node-mid-multi')).toBe(false);
    expect(await openUploads(client, bucket)).toBe(0);
  });

  it('a web stream closed empty is an empty object', async () => {
    const stream = new ReadableStream({ start: (c) => c.close() });
    const out = await put('web-closed-empty', stream);
    expect(out.plaintextSize).toBe(0);
    expect(await stored('web-closed-empty')).toBe(true);
  });
});

describe.each(modes)('a file that shrinks while it is uploaded (%s)', (label, encryption) => {
  it.each([
    ['one PutObject', 3 * MiB, 2 * MiB],
    ['a multipart upload', 12 * MiB, 7 * MiB],
  ])(
    '%s: SOURCE_CHANGED, nothing stored, no upload left (was: the shorter object, reported as stored)',
    async (_how, size, cut) => {
      const path = join(dir, `shrinks-${label}-${size}`);
      await writeFile(path, bytes(size));
      const key = `${label}/shrinks-${size}`;
      // stat'ed (as putObject does with a path), then truncated before it is read
      const body = await fileBody(path);
      await truncate(path, cut);
      const err = await putObject({
        client,
        bucket,
        key,
        body,
        encryption: encryption(),
        partSize: 5 * MiB,
      }).catch((e: unknown) => e);
      expect(await codeOf(Promise.reject(err))).toBe('SOURCE_CHANGED');
      expect((err as Error).message).toMatch(/shorter/);
      expect(await exists(key)).toBe(false);
      expect(await openUploads(client, bucket)).toBe(0);
    },
  );

  it('a file that grows is read to its end (a file whose size stat does not know, as in /proc)', async () => {
    const path = join(dir, `grows-${label}`);
    await writeFile(path, bytes(1000));
    const body = await fileBody(path);
    await appendFile(path, bytes(500));
    const out = await putObject({ client, bucket, key: `${label}/grows`, body, encryption: encryption() });
    expect(out.plaintextSize).toBe(1500);
  });
});
