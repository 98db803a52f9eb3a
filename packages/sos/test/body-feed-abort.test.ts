/**
 * An abort ends a fill waiting on a fetch body (a web stream, read through its reader) at once and
 * cancels the body, as it does on a Node body: the feed used to keep waiting on a stalled body
 * until the read's idle bound (120 s by default for presigned downloads) cut it, unless its caller
 * closed it. End to end (the core reader closes the read on abort), a stalled presigned download
 * settles as ABORTED at once.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { generateKey, isSealstreamError } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { type BodyFeed, feedOf } from '../src/body-feed.ts';
import { putObject } from '../src/index.ts';
import { presignGet } from '../src/presign.ts';
import { openSealed, PresignedSource } from '../src/presigned/index.ts';
import { bytes, useTestBucket } from './helpers.ts';
import { countingFetch } from './support/https-fetch.ts';
import { throughProxy } from './support/through-proxy.ts';

const MiB = 1024 * 1024;
let direct: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  direct = c;
  bucket = b;
});

/** A web body that gives `first` bytes, then nothing more (a stalled connection); tells when cancelled. */
function stalledBody(first: number): { body: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  let given = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!given) controller.enqueue(new Uint8Array(first));
      given = true;
      return new Promise(() => {}); // never more
    },
    cancel() {
      cancelled = true;
    },
  });
  return { body, cancelled: () => cancelled };
}

/** `promise`, or 'still pending' once `ms` have passed (what a hung fill looks like here). */
function orPending<T>(promise: Promise<T>, ms = 2000): Promise<T | 'still pending'> {
  const pending = new Promise<'still pending'>((r) => setTimeout(() => r('still pending'), ms));
  return Promise.race([promise, pending]);
}

describe('a fill waiting on a stalled fetch body', () => {
  const open = (body: ReadableStream<Uint8Array>): BodyFeed =>
    feedOf(body, { offset: 0, bodyEnd: 100_000 }, 0, 100_000);

  it('before any byte of the fill: rejects with the abort reason at once; the body is cancelled', async () => {
    const { body, cancelled } = stalledBody(1000);
    const feed = open(body);
    const into = new Uint8Array(1000);
    expect(await feed.fill(into, undefined)).toBe(1000);
    const controller = new AbortController();
    const fill = feed.fill(new Uint8Array(1000), controller.signal).catch((e: unknown) => e);
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 20);
    expect(await orPending(fill)).toBe(reason);
    expect(cancelled()).toBe(true);
  });

  it('after some bytes of the fill: those bytes first, then the abort reason', async () => {
    const { body } = stalledBody(1000);
    const feed = open(body);
    const controller = new AbortController();
    const fill = feed.fill(new Uint8Array(5000), controller.signal);
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 20);
    expect(await orPending(fill)).toBe(1000);
    await expect(feed.fill(new Uint8Array(5000), controller.signal)).rejects.toBe(reason);
  });
});

it("a presigned download of the RGW stalled mid-body (fault proxy): the caller's abort settles it as ABORTED, long before the 60 s idle bound", async () => {
  const key = 'stalled-presigned';
  const keys = [generateKey()];
  await putObject({
    client: direct,
    bucket,
    key,
    body: bytes(18 * MiB),
    encryption: { clientSide: { keys } },
  });
  await throughProxy(
    [{ direction: 'down', at: 9 * MiB, connection: 'total', action: { kind: 'stall' } }],
    async (proxy, client) => {
      const url = await presignGet(client, { bucket, key, expiresIn: 300 });
      const { fetch } = countingFetch();
      const object = await openSealed(await PresignedSource.open(url, { fetch, timeoutMs: 60_000 }), {
        keys,
      });
      const controller = new AbortController();
      const reader = object.stream(undefined, { signal: controller.signal }).getReader();
      const done = (async () => {
        for (;;) if ((await reader.read()).done) return 'done';
      })().catch((e: unknown) => e);
      for (let i = 0; i < 500 && proxy.fired.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(proxy.fired).toHaveLength(1);
      controller.abort();
      const settled = await orPending(done, 5000);
      expect(isSealstreamError(settled) ? settled.code : String(settled)).toBe('ABORTED');
    },
  );
});
