/**
 * A caller's abort racing the one PutObject of a small body: the call either resolves (the object
 * is stored and reported) or rejects with ABORTED and leaves no object, or says that it may have
 * been stored. Through the fault proxy, against the real store over TLS: the store's answer is
 * held back after it stored the object and the abort fires meanwhile; or the body is held back.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, inject, it } from 'vitest';
import { createSosClient, type Encryption, putObject } from '../src/index.ts';
import { bytes, codeOf, objectExists, useTestBucket } from './helpers.ts';
import type { FaultProxy } from './support/fault-proxy.ts';
import { throughProxy, timed } from './support/through-proxy.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
let direct: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  direct = c;
  bucket = b;
});

const exists = (key: string) => objectExists(direct, bucket, key);

/**
 * Arms a stall of the next bytes in `direction` (`skip` bytes on), after one request has set up
 * the connection: the TLS handshake is behind, so the next bytes down are an answer, up a request.
 */
async function stallNext(
  proxy: FaultProxy,
  client: S3Client,
  direction: 'up' | 'down',
  skip = 0,
): Promise<void> {
  await client.send(new HeadBucketCommand({ Bucket: bucket }));
  const at = proxy.forwarded[direction] + skip;
  proxy.inject({ direction, at, connection: 'total', action: { kind: 'stall' } });
}

const modes: [string, () => Encryption][] = [
  ['plain', () => 'none'],
  ['SSE-C', () => ({ sseC: { key: generateKey() } })],
  ['client-side', () => ({ clientSide: { keys: [generateKey()] } })],
];

describe.each(modes)(
  'abort while the store holds back its answer to the PutObject (%s)',
  (label, encryption) => {
    it.each([1, 200 * KiB])(
      '%i bytes: the call resolves with the object it stored (was: ABORTED saying nothing was created)',
      async (size) => {
        const key = `held-answer-${label}-${size}`;
        await throughProxy([], async (proxy, client) => {
          await stallNext(proxy, client, 'down');
          const up = proxy.forwarded.up;
          const controller = new AbortController();
          const put = timed(() =>
            putObject({
              client,
              bucket,
              key,
              body: bytes(size),
              encryption: encryption(),
              signal: controller.signal,
            }),
          );
          // the whole request has reached the store (and it has stored the object) before the abort
          expect(await storedSoon(key)).toBe(true);
          expect(proxy.forwarded.up).toBeGreaterThan(up + size);
          controller.abort();
          const { error, value } = await put;
          // the body had left: the abort waits for the answer (here: after a retry) and reports the object
          expect(error).toBeUndefined();
          expect(value?.size).toBeGreaterThanOrEqual(size);
          expect(await exists(key)).toBe(true);
        });
      },
    );
  },
);

/** Polls until `key` is stored (the store has taken the whole request), for at most 5 s. */
async function storedSoon(key: string): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await exists(key)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

it('abort while the body is still on its way (the upload direction stalled): ABORTED, nothing stored', async () => {
  const key = 'stalled-body';
  await throughProxy([], async (proxy, client) => {
    // 1 MiB into a 7 MiB body (one PutObject): the rest cannot all wait in socket buffers
    await stallNext(proxy, client, 'up', MiB);
    const controller = new AbortController();
    const put = putObject({
      client,
      bucket,
      key,
      body: bytes(7 * MiB),
      encryption: 'none',
      signal: controller.signal,
    });
    for (let i = 0; i < 200 && proxy.fired.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(proxy.fired).toHaveLength(1);
    controller.abort();
    const err = await put.catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ABORTED');
    expect((err as Error).message).toMatch(/no object was created/);
    expect(await exists(key)).toBe(false);
  });
});

it('a client that cannot tell whether the body has left (not made by createSosClient): ABORTED saying the object may have been stored', async () => {
  const key = 'unknown-client';
  const s3 = inject('s3');
  await throughProxy([], async (proxy) => {
    const client = new S3Client({
      endpoint: proxy.endpoint,
      region: s3.region,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      requestHandler: { httpsAgent: new Agent({ ca: readFileSync(s3.caFile), keepAlive: true }) },
    });
    try {
      await stallNext(proxy, client, 'down');
      const controller = new AbortController();
      const put = putObject({
        client,
        bucket,
        key,
        body: bytes(1000),
        encryption: 'none',
        signal: controller.signal,
      });
      expect(await storedSoon(key)).toBe(true);
      controller.abort();
      const err = await put.catch((e: unknown) => e);
      expect(await codeOf(Promise.reject(err))).toBe('ABORTED');
      expect((err as Error).message).toMatch(new RegExp(`${bucket}/${key} may have been stored`));
    } finally {
      client.destroy();
    }
  });
});

it('abort just after the PutObject completed (from onProgress): the call resolves with the object it stored', async () => {
  const key = 'abort-after-answer';
  const controller = new AbortController();
  const out = await putObject({
    client: direct,
    bucket,
    key,
    body: bytes(1000),
    encryption: 'none',
    signal: controller.signal,
    onProgress: () => controller.abort(),
  });
  expect(controller.signal.aborted).toBe(true);
  expect(out.size).toBe(1000);
  expect(await exists(key)).toBe(true);
});

it('abort while the connection is still being made (a server that never completes the TLS handshake): ABORTED at once, nothing stored', async () => {
  // the body is handed to the request at once and waits there for the connection: it has not left
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const s3 = inject('s3');
  const client = createSosClient({
    endpoint: `https://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ca: s3.caFile,
    timeouts: { connectMs: 60_000, cleanupMs: 60_000 },
  });
  try {
    const controller = new AbortController();
    const put = putObject({
      client,
      bucket,
      key: 'never-connected',
      body: bytes(1000),
      encryption: 'none',
      signal: controller.signal,
    });
    for (let i = 0; i < 500 && sockets.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sockets.length).toBeGreaterThan(0);
    controller.abort();
    const settled = await Promise.race([
      put.then(
        () => 'stored',
        (e: Error) => e,
      ),
      new Promise<string>((r) => setTimeout(() => r('still pending after 5 s'), 5000)),
    ]);
    expect(await codeOf(Promise.reject(settled))).toBe('ABORTED');
    expect((settled as Error).message).toMatch(/no object was created/);
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
