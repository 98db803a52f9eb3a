/**
 * Test page for a store that answers wrongly (a route of the test server, same origin): the
 * browser entry's getObject and a presigned download, each with short time bounds, report how
 * they ended. Called by browser/test/store-faults.test.ts.
 */
import { isSealstreamError } from '@sealstream/core';
import { createSosClient, getObject, putObject } from '@sealstream/sos';
import { PresignedSource } from '@sealstream/sos/presigned';

const failure = (err: unknown) => ({
  code: isSealstreamError(err) ? err.code : `not a SealstreamError: ${(err as Error)?.name}: ${String(err)}`,
  message: (err as Error)?.message,
});

/** Reads a stream to its end; the byte count. */
async function drain(body: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const piece of body as unknown as AsyncIterable<Uint8Array>) n += piece.length;
  return n;
}

/** A client of the browser entry for this page's origin as the store. */
function fakeClient(timeouts: { idleMs?: number; requestMs?: number }) {
  return createSosClient({
    endpoint: location.origin,
    allowInsecureHttp: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    timeouts,
  });
}

/** getObject of a plain object through the browser entry, against this page's origin as the store. */
async function sdkGet(args: { key: string; idleMs?: number; abortAfterMs?: number }) {
  const controller = new AbortController();
  if (args.abortAfterMs !== undefined) setTimeout(() => controller.abort(), args.abortAfterMs);
  try {
    const got = await getObject({
      client: fakeClient(args.idleMs ? { idleMs: args.idleMs } : {}),
      bucket: 'fake',
      key: args.key,
      encryption: 'none',
      signal: controller.signal,
    });
    return { ok: true as const, length: await drain(got.body) };
  } catch (err) {
    return { ok: false as const, error: failure(err) };
  }
}

/** putObject of a small Blob, sealed client-side or SSE-C, to a store that takes it and never answers. */
async function sdkPut(args: { key: string; requestMs: number; sseC?: boolean; abortAfterMs?: number }) {
  const controller = new AbortController();
  if (args.abortAfterMs !== undefined) setTimeout(() => controller.abort(), args.abortAfterMs);
  const secret = crypto.getRandomValues(new Uint8Array(32));
  try {
    await putObject({
      client: fakeClient({ requestMs: args.requestMs }),
      bucket: 'fake',
      key: args.key,
      body: new Blob([new Uint8Array(1000)]),
      encryption: args.sseC ? { sseC: { key: secret } } : { clientSide: { keys: [secret] } },
      signal: controller.signal,
    });
    return { ok: true as const };
  } catch (err) {
    return { ok: false as const, error: failure(err) };
  }
}

/** A presigned source over this page's origin: opened, then `[start, end)` read. */
async function presignedRead(args: { path: string; timeoutMs: number; start?: number; end?: number }) {
  try {
    const source = await PresignedSource.open(`${location.origin}${args.path}`, {
      timeoutMs: args.timeoutMs,
      attempts: 1,
    });
    const bytes = await source.read(args.start ?? 0, args.end ?? source.size);
    return { ok: true as const, length: bytes.length };
  } catch (err) {
    return { ok: false as const, error: failure(err) };
  }
}

Object.assign(globalThis, { faultTest: { sdkGet, sdkPut, presignedRead } });
document.title = 'ready';
