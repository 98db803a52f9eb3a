/**
 * Network faults between the client and the real S3 server (over TLS, through the fault proxy):
 * uploads and downloads cut (RST, FIN), stalled, slowed, or hit by an outage at many points.
 *
 * What must hold whatever the fault: a call settles within its time bounds; a download either
 * yields every byte exactly or fails with a code (never a short stream reported as complete); a
 * failed upload leaves no object and, once the client has cleaned up (aborting by the upload ID
 * the error names when the store was unreachable), no multipart upload.
 */
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  AbortMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { generateKey, isSealstreamError } from '@sealstream/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Encryption, getObject, isSosError, putObject, UploadNotAbortedError } from '../src/index.ts';
import { bytes, collect, openUploads, sameBytes, useTestBucket } from './helpers.ts';
import type { Fault, FaultAction } from './support/fault-proxy.ts';
import { FAST, outageAt, SETTLE_BOUND_MS, throughProxy, timed } from './support/through-proxy.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
let direct: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  direct = c;
  bucket = b;
});

/** Multipart uploads still open for one key. */
async function openUploadsOf(key: string): Promise<number> {
  const out = await direct.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (out.Uploads ?? []).filter((u) => u.Key === key).length;
}

async function exists(key: string): Promise<boolean> {
  return direct.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (e) => e.$metadata?.httpStatusCode === 400, // 400: exists, but needs its SSE-C key
  );
}

const modes: [string, () => Encryption][] = [
  ['plain', () => 'none'],
  ['SSE-C', () => ({ sseC: { key: sseKey } })],
  ['client-side', () => ({ clientSide: { keys: [csKey] } })],
];
const sseKey = generateKey();
const csKey = generateKey();

const cuts: FaultAction[] = [{ kind: 'rst' }, { kind: 'fin' }, { kind: 'stall' }];
const label = (a: FaultAction) => (a.kind === 'slow' ? `slow ${a.bytesPerSecond} B/s` : a.kind);

/** Codes a download under a lasting fault may end with. */
const DOWNLOAD_FAILURES = ['DOWNLOAD_INCOMPLETE', 'TIMEOUT', 'SERVER_FAULT'];

describe.concurrent.each(modes)('downloads through faults (%s)', (mode, encryption) => {
  const size = 4 * MiB + 123;
  const data = bytes(size);
  const key = `download-${mode}`;
  beforeAll(async () => {
    await putObject({ client: direct, bucket, key, body: data, encryption: encryption() });
  });
  // offsets in the server-to-client bytes of all connections: TLS handshake, response headers,
  // first MiB, mid-object, the last KiB (last chunk)
  const points: [string, number][] = [
    ['TLS handshake', 200],
    ['response header', 4 * KiB],
    ['first MiB', 1 * MiB],
    ['mid-object', 2 * MiB],
    ['last chunk', size - KiB],
  ];
  const cases = points.flatMap(([where, at]) => cuts.map((action) => ({ where, at, action })));
  const download = (client: S3Client) =>
    timed(async () => collect((await getObject({ client, bucket, key, encryption: encryption() })).body));

  it.each(cases)('$where ($at), $action.kind: every byte, resumed', async ({ at, action }) => {
    await throughProxy([{ direction: 'down', at, connection: 'total', action }], async (proxy, client) => {
      const result = await download(client);
      expect(proxy.fired.length, 'the fault was reached').toBe(1);
      expect(result.error, `${label(action)} at ${at}`).toBeUndefined();
      expect(sameBytes(result.value!, data)).toBe(true);
      expect(result.ms).toBeLessThan(SETTLE_BOUND_MS);
    });
  });

  it.each(['reset', 'stall'] as const)(
    'outage (%s) mid-object: a coded failure, never a short success',
    async (mode) => {
      await throughProxy([outageAt(3 * MiB, mode)], async (_proxy, client) => {
        const result = await download(client);
        expect(result.value, 'a download cut off for good must not succeed').toBeUndefined();
        expect(isSealstreamError(result.error) ? result.error.code : String(result.error)).toBeOneOf(
          DOWNLOAD_FAILURES,
        );
        expect(result.ms).toBeLessThan(SETTLE_BOUND_MS);
      });
    },
  );

  it('slowed to 4 MiB/s from the first MiB: every byte', async () => {
    const slow: FaultAction = { kind: 'slow', bytesPerSecond: 4 * MiB };
    await throughProxy(
      [{ direction: 'down', at: MiB, connection: 'total', action: slow }],
      async (_p, client) => {
        const result = await download(client);
        expect(result.error).toBeUndefined();
        expect(sameBytes(result.value!, data)).toBe(true);
      },
    );
  });
});

describe.concurrent.each(modes)('uploads through faults (%s)', (mode, encryption) => {
  // two parts of 5 and 1.5 MiB (plus the sealing overhead client-side), sent as a stream
  const size = 6.5 * MiB;
  const data = bytes(size);
  const points: [string, number][] = [
    ['TLS handshake', 200],
    ['part 1', 2 * MiB],
    ['between parts', 5 * MiB + 4 * KiB],
    ['last part', 6 * MiB],
    ['completion', size + 64 * KiB],
  ];
  const cases = points.flatMap(([where, at]) => cuts.map((action) => ({ where, at, action })));
  const upload = (client: S3Client, key: string, signal?: AbortSignal) =>
    timed(() =>
      putObject({
        client,
        bucket,
        key,
        body: Readable.from([data]),
        encryption: encryption(),
        partSize: 5 * MiB,
        queueSize: 2,
        ...(signal ? { signal } : {}),
      }),
    );

  it.each(cases)('$where ($at), $action.kind: stored whole or not at all', async ({ where, at, action }) => {
    const key = `upload-${mode}-${where}-${action.kind}`;
    await throughProxy([{ direction: 'up', at, connection: 'total', action }], async (proxy, client) => {
      const result = await upload(client, key);
      expect(result.ms).toBeLessThan(SETTLE_BOUND_MS);
      if (proxy.fired.length === 0) expect(where).toBe('completion'); // a short completion request
      if (result.error === undefined) {
        const back = await getObject({ client: direct, bucket, key, encryption: encryption() });
        expect(sameBytes(await collect(back.body), data)).toBe(true);
      } else {
        expect(isSosError(result.error), String(result.error)).toBe(true);
        expect(await exists(key), 'a failed upload created no object').toBe(false);
        if (result.error instanceof UploadNotAbortedError) {
          // the store was slow to answer the abort: the client cleans up with the ID it was given
          await direct.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: result.error.uploadId }),
          );
        }
      }
      expect(await openUploadsOf(key), `no multipart upload is left (${String(result.error)})`).toBe(0);
    });
  });

  it.each(['reset', 'stall'] as const)(
    'outage (%s) during part 2: UPLOAD_NOT_ABORTED naming the upload, which can be aborted later',
    async (outage) => {
      const key = `upload-outage-${mode}-${outage}`;
      const fault: Fault = {
        direction: 'up',
        at: 5.5 * MiB,
        connection: 'total',
        action: { kind: 'outage', mode: outage },
      };
      await throughProxy([fault], async (_proxy, client) => {
        const result = await upload(client, key);
        expect(result.ms).toBeLessThan(SETTLE_BOUND_MS);
        const err = result.error as UploadNotAbortedError;
        expect(err, String(err)).toBeInstanceOf(UploadNotAbortedError);
        expect(err.code).toBe('UPLOAD_NOT_ABORTED');
        expect(err.key).toBe(key);
        expect(err.message).toContain(err.uploadId);
        expect(err.message).toContain('abort-multipart-upload');
        expect(await openUploadsOf(key)).toBe(1);
        // the client cleans up once the store is back, with what the error named
        await direct.send(
          new AbortMultipartUploadCommand({ Bucket: err.bucket, Key: err.key, UploadId: err.uploadId }),
        );
        expect(await openUploadsOf(key)).toBe(0);
        expect(await exists(key)).toBe(false);
      });
    },
  );

  it('aborted by the caller while the store is a black hole: settles within the cleanup bound', async () => {
    const key = `upload-abort-${mode}`;
    const fault: Fault = {
      direction: 'up',
      at: 2 * MiB,
      connection: 'total',
      action: { kind: 'outage', mode: 'stall' },
    };
    await throughProxy(
      [fault],
      async (proxy, client) => {
        const controller = new AbortController();
        let abortedAt = 0;
        // give up 300 ms into the black hole, once part 1 of the multipart upload is stuck in it
        const poll = setInterval(() => {
          if (proxy.fired.length === 0 || abortedAt !== 0) return;
          clearInterval(poll);
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort(new Error('user gave up'));
          }, 300);
        }, 20);
        const result = await upload(client, key, controller.signal);
        const settledAt = performance.now();
        clearInterval(poll);
        expect(proxy.fired.length).toBe(1);
        // no request can reach the store: the abort of the multipart upload is bounded by cleanupMs
        expect(settledAt - abortedAt).toBeLessThan(FAST.cleanupMs + 2000);
        const err = result.error as UploadNotAbortedError;
        expect(isSosError(err, 'UPLOAD_NOT_ABORTED'), String(err)).toBe(true);
        expect(isSosError(err.cause, 'ABORTED')).toBe(true);
        await direct.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: err.uploadId }),
        );
        expect(await exists(key)).toBe(false);
      },
      // only the caller's signal and the cleanup bound can end this upload
      { idleMs: 60_000, requestMs: 60_000 },
    );
  });
});

afterAll(async () => {
  expect(await openUploads(direct, bucket), 'no multipart upload is left in the bucket').toBe(0);
});

describe('a caller signal given inline', () => {
  it('AbortSignal.timeout() passed inline ends a stalled client-side download, through garbage collections', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const key = 'inline-timeout';
    const encryption: Encryption = { clientSide: { keys: [csKey] } };
    await putObject({ client: direct, bucket, key, body: bytes(2 * MiB), encryption });
    const stall: Fault = { direction: 'down', at: 256 * KiB, connection: 'total', action: { kind: 'stall' } };
    await throughProxy(
      [stall],
      async (_proxy, client) => {
        const collector = setInterval(gc, 50);
        try {
          const result = await timed(async () => {
            // nothing but the download holds this signal
            const got = await getObject({
              client,
              bucket,
              key,
              encryption,
              signal: AbortSignal.timeout(1000),
            });
            return collect(got.body);
          });
          expect(isSealstreamError(result.error) ? result.error.code : String(result.error)).toBe('ABORTED');
          expect(result.ms).toBeLessThan(5000);
        } finally {
          clearInterval(collector);
        }
      },
      // only the caller's signal can end this download
      { idleMs: 60_000, requestMs: 60_000 },
    );
  });
});

describe('an object replaced during a read', () => {
  it.each([
    ['client-side', { clientSide: { keys: [csKey] } }],
    ['SSE-C', { sseC: { key: sseKey } }],
  ] as [string, Encryption][])('%s: OBJECT_CHANGED, not a decryption error', async (mode, encryption) => {
    const key = `replaced-${mode}`;
    const size = 40 * MiB;
    await putObject({ client: direct, bucket, key, body: bytes(size), encryption, partSize: 8 * MiB });
    // Both read the rest of the object as one streamed GET. The body is cut once the object is
    // replaced (past what socket buffers already hold), so the read has to ask again, pinned to
    // the first version: the store refuses, and that must be OBJECT_CHANGED. (A GET still
    // streaming the old version when it is replaced may finish it: one version, all authenticated.)
    await throughProxy([], async (proxy, client) => {
      const got = await getObject({ client, bucket, key, encryption, parallel: 1 });
      const reader = got.body.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      await putObject({ client: direct, bucket, key, body: bytes(size), encryption, partSize: 8 * MiB });
      const at = proxy.forwarded.down + 64 * 1024;
      proxy.inject({ direction: 'down', at, connection: 'total', action: { kind: 'rst' } });
      const result = await timed(async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read());
      });
      expect(proxy.fired.length, 'the cut came after the replacement').toBe(1);
      expect(isSealstreamError(result.error) ? result.error.code : String(result.error)).toBe(
        'OBJECT_CHANGED',
      );
    });
  });
});
