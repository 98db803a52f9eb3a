/**
 * Client-side downloads longer than one window stream the payload with one GET and open it a batch
 * of chunks at a time as it arrives (core's reader over S3RangeSource.readSequential), against the
 * real S3 server over TLS, directly and through the fault proxy: every byte exactly or a coded
 * failure, never a short stream reported as complete; resumed from where the body broke off;
 * bounded by the caller's signal; nothing left open after a cancel.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { generateKey, isSealstreamError, readHeaderLength, SEALED_CHUNK_SIZE } from '@sealstream/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Encryption, getObject, putObject } from '../src/index.ts';
import { bytes, codeOf, collect, sameBytes, useTestBucket } from './helpers.ts';
import type { Fault, FaultAction } from './support/fault-proxy.ts';
import { outageAt, SETTLE_BOUND_MS, throughProxy, timed } from './support/through-proxy.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const csKey = generateKey();
const encryption: Encryption = { clientSide: { keys: [csKey] } };
/** Three windows of 8 MiB and a bit: read in order, it is streamed. */
const size = 20 * MiB + 321;
const data = bytes(size);
const key = 'sequential';

let direct: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  direct = c;
  bucket = b;
});
beforeAll(async () => {
  await putObject({ client: direct, bucket, key, body: data, encryption });
});

let counters = 0;
/** Counts the GetObject requests a client sends (from now on). */
function countGets(client: S3Client): { requests: number } {
  const counter = { requests: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand') counter.requests++;
      return next(args);
    },
    { step: 'initialize', name: `testCountGets${counters++}` },
  );
  return counter;
}

describe('a whole client-side object read in order', () => {
  it('is two GETs: the header, then the payload streamed; every byte, in batches of 1 MiB', async () => {
    const gets = countGets(direct);
    const got = await getObject({ client: direct, bucket, key, encryption });
    const parts: number[] = [];
    const chunks: Uint8Array[] = [];
    for await (const part of got.body as unknown as AsyncIterable<Uint8Array>) {
      parts.push(part.length);
      chunks.push(part);
    }
    expect(sameBytes(new Uint8Array(Buffer.concat(chunks)), data)).toBe(true);
    expect(gets.requests).toBe(2);
    expect(parts.slice(0, -1).every((n) => n === MiB)).toBe(true);
    // every stored byte fetched once (the first GET's 4 KiB overlap the payload's start)
    expect(got.stats.bytesFetched).toBeLessThan(size + Math.ceil(size / 16_384) * 16 + 8 * KiB);
  });

  it('a range of several windows is streamed too, exactly', async () => {
    const start = 3 * MiB + 7;
    const end = 19 * MiB + 11;
    const gets = countGets(direct);
    const got = await getObject({ client: direct, bucket, key, encryption, range: { start, end } });
    expect(sameBytes(await collect(got.body), data.subarray(start, end))).toBe(true);
    expect(gets.requests).toBe(2);
  });
});

describe('through faults', () => {
  const cuts: FaultAction[] = [{ kind: 'rst' }, { kind: 'fin' }, { kind: 'stall' }];
  const points: [string, number][] = [
    ['first MiB of the payload', 1 * MiB],
    ['mid-object', 11 * MiB],
    ['last chunk', size - KiB],
  ];
  const cases = points.flatMap(([where, at]) => cuts.map((action) => ({ where, at, action })));

  it.concurrent.each(cases)('$where ($at), $action.kind: every byte, resumed', async ({ at, action }) => {
    await throughProxy([{ direction: 'down', at, connection: 'total', action }], async (proxy, client) => {
      const gets = countGets(client);
      const result = await timed(async () =>
        collect((await getObject({ client, bucket, key, encryption })).body),
      );
      expect(proxy.fired.length, 'the fault was reached').toBe(1);
      expect(result.error).toBeUndefined();
      expect(sameBytes(result.value!, data)).toBe(true);
      expect(gets.requests, 'resumed with a new GET').toBeGreaterThanOrEqual(3);
      expect(result.ms).toBeLessThan(SETTLE_BOUND_MS);
    });
  });

  it.concurrent.each(['reset', 'stall'] as const)(
    'outage (%s) mid-object: a coded failure, never a short success',
    async (mode) => {
      await throughProxy([outageAt(9 * MiB, mode)], async (_proxy, client) => {
        const released: number[] = [];
        const result = await timed(async () => {
          const got = await getObject({ client, bucket, key, encryption });
          for await (const part of got.body as unknown as AsyncIterable<Uint8Array>)
            released.push(part.length);
        });
        expect(isSealstreamError(result.error) ? result.error.code : String(result.error)).toBeOneOf([
          'DOWNLOAD_INCOMPLETE',
          'TIMEOUT',
          'SERVER_FAULT',
        ]);
        // only whole authenticated batches came out, fewer than the object holds
        expect(released.every((n) => n === MiB)).toBe(true);
        expect(released.length * MiB).toBeLessThan(size);
        expect(result.ms).toBeLessThan(SETTLE_BOUND_MS);
      });
    },
  );

  it('a stalled body ends with the caller signal given inline (ABORTED), not at the idle bound', async () => {
    const stall: Fault = { direction: 'down', at: 10 * MiB, connection: 'total', action: { kind: 'stall' } };
    await throughProxy(
      [stall],
      async (_proxy, client) => {
        const result = await timed(async () => {
          const got = await getObject({ client, bucket, key, encryption, signal: AbortSignal.timeout(2000) });
          return collect(got.body);
        });
        expect(isSealstreamError(result.error) ? result.error.code : String(result.error)).toBe('ABORTED');
        expect(result.ms).toBeLessThan(6000);
      },
      { idleMs: 60_000, requestMs: 60_000 },
    );
  });

  it('cancelled after the first batch: the body stops coming', async () => {
    await throughProxy([], async (proxy, client) => {
      const got = await getObject({ client, bucket, key, encryption });
      const reader = got.body.getReader();
      expect((await reader.read()).value?.length).toBe(MiB);
      await reader.cancel();
      await new Promise((r) => setTimeout(r, 300));
      const after = proxy.forwarded.down;
      await new Promise((r) => setTimeout(r, 700));
      expect(proxy.forwarded.down, 'no byte forwarded after the cancel settled').toBe(after);
      expect(after).toBeLessThan(size);
    });
  });
});

describe('a stored object tampered with', () => {
  it('a flipped byte mid-payload: CHUNK_AUTH_FAILED, and only the batches before it are released', async () => {
    const tampered = 'sequential-tampered';
    const stored = await collect((await getObject({ client: direct, bucket, key, encryption: 'none' })).body);
    const chunk = 300; // in the fifth batch of 64 chunks
    const at = readHeaderLength(stored)! + 56 + chunk * SEALED_CHUNK_SIZE + 5;
    stored[at]! ^= 1;
    await putObject({ client: direct, bucket, key: tampered, body: stored, encryption: 'none' });
    const got = await getObject({ client: direct, bucket, key: tampered, encryption });
    const released: Uint8Array[] = [];
    const code = await codeOf(
      got.body.pipeTo(new WritableStream({ write: (part) => void released.push(part) })),
    );
    expect(code).toBe('CHUNK_AUTH_FAILED');
    const out = Buffer.concat(released);
    expect(out.length).toBe(4 * MiB);
    expect(sameBytes(out, data.subarray(0, out.length))).toBe(true);
  });
});
