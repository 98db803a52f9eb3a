/**
 * The in-order download's body feed (body-feed.ts) at its seam: one GET answer's body, a real Node
 * `Readable` (as the SDK hands it) or an async iterable (a fetch body), written into the caller's
 * buffers for the bytes `[start, end)`. Every byte exactly once, whatever the piece sizes; the body
 * paused while no fill waits (backpressure); a 200 answer's prefix dropped and its rest cut; a body
 * that ends early or fails after some bytes reports those bytes first, then the failure; an abort
 * ends a waiting fill at once.
 */
import { PassThrough, Readable } from 'node:stream';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { bodyFeed } from '../src/body-feed.ts';

/** Bytes whose value says where they are. */
function pattern(n: number, from = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i) % 251);
}

/** An answer as the SDK gives it: 206 for `[start, end)` of an object of `size`, or a 200. */
function answer(
  body: unknown,
  range: { start: number; end: number; size: number } | number,
): GetObjectCommandOutput {
  if (typeof range === 'number') {
    return { $metadata: { httpStatusCode: 200 }, ContentLength: range, Body: body } as GetObjectCommandOutput;
  }
  return {
    $metadata: { httpStatusCode: 206 },
    ContentRange: `bytes ${range.start}-${range.end - 1}/${range.size}`,
    ContentLength: range.end - range.start,
    Body: body,
  } as GetObjectCommandOutput;
}

/** A Node body that pushes `bytes` in pieces of the given sizes (cycled), one piece per tick. */
function pieces(bytes: Uint8Array, sizes: number[]): PassThrough {
  const body = new PassThrough({ highWaterMark: 16_384 });
  void (async () => {
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const next = Math.min(bytes.length, at + sizes[i % sizes.length]!);
      // a copy: the feed must not rely on the pieces sharing one buffer
      if (!body.write(bytes.slice(at, next))) await new Promise((r) => body.once('drain', r));
      at = next;
      await new Promise((r) => setImmediate(r));
    }
    body.end();
  })();
  return body;
}

/** Fills buffers of `batch` bytes until the feed says the range is complete. */
async function drain(
  feed: ReturnType<typeof bodyFeed>,
  batch: number,
): Promise<{ bytes: Uint8Array; fills: number[] }> {
  const out: Uint8Array[] = [];
  const fills: number[] = [];
  for (;;) {
    const into = new Uint8Array(batch);
    const n = await feed.fill(into, undefined);
    if (n === 0) break;
    fills.push(n);
    out.push(into.subarray(0, n));
  }
  return { bytes: new Uint8Array(Buffer.concat(out)), fills };
}

describe('a Node Readable body (flowing while a fill waits)', () => {
  it('every byte once, in whole buffers, whatever the piece sizes', async () => {
    const data = pattern(300_007);
    for (const sizes of [[16_384], [1, 7, 40_000], [300_007]]) {
      const feed = bodyFeed(
        answer(pieces(data, sizes), { start: 0, end: data.length, size: data.length }),
        0,
        data.length,
      );
      const { bytes, fills } = await drain(feed, 65_536);
      expect(Buffer.compare(bytes, data), `pieces ${sizes}`).toBe(0);
      expect(fills.slice(0, -1).every((n) => n === 65_536)).toBe(true);
    }
  });

  it('is paused between fills: the body holds back once its buffer is full', async () => {
    const data = pattern(1 << 20);
    const body = pieces(data, [16_384]);
    const feed = bodyFeed(answer(body, { start: 0, end: data.length, size: data.length }), 0, data.length);
    const into = new Uint8Array(100_000);
    expect(await feed.fill(into, undefined)).toBe(100_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(body.isPaused()).toBe(true);
    // what arrived meanwhile waits in the stream (bounded by its high-water mark), not in the feed
    expect(body.readableLength).toBeLessThanOrEqual(2 * 16_384);
    const rest = await drain(feed, 1 << 20);
    expect(Buffer.compare(Buffer.concat([into, rest.bytes]), data)).toBe(0);
  });

  it('a 200 answer (Range ignored): the bytes before the range dropped, the body cut after it', async () => {
    const object = pattern(200_000);
    const body = pieces(object, [30_000]);
    const feed = bodyFeed(answer(body, object.length), 50_001, 120_003);
    const { bytes } = await drain(feed, 16_400);
    expect(Buffer.compare(bytes, object.subarray(50_001, 120_003))).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(body.destroyed, 'the rest is not received').toBe(true);
  });

  it('a body that ends early: the bytes received, then a premature close (resumable)', async () => {
    const data = pattern(100_000);
    const body = pieces(data.subarray(0, 70_000), [16_384]);
    const feed = bodyFeed(answer(body, { start: 0, end: data.length, size: data.length }), 0, data.length);
    const into = new Uint8Array(100_000);
    expect(await feed.fill(into, undefined)).toBe(70_000);
    expect(Buffer.compare(into.subarray(0, 70_000), data.subarray(0, 70_000))).toBe(0);
    await expect(feed.fill(into, undefined)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('a body that fails: the bytes before the failure first, then its error', async () => {
    const body = new PassThrough();
    const feed = bodyFeed(answer(body, { start: 0, end: 50_000, size: 50_000 }), 0, 50_000);
    const into = new Uint8Array(50_000);
    const first = feed.fill(into, undefined);
    body.write(pattern(10_000));
    setImmediate(() => body.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
    expect(await first).toBe(10_000);
    await expect(feed.fill(into.subarray(10_000), undefined)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('an abort ends a waiting fill at once and closes the body', async () => {
    const body = new PassThrough();
    const feed = bodyFeed(answer(body, { start: 0, end: 50_000, size: 50_000 }), 0, 50_000);
    const controller = new AbortController();
    const fill = feed.fill(new Uint8Array(50_000), controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(fill).rejects.toBe(reason);
    expect(body.destroyed).toBe(true);
  });

  it('a body ending with the range is read to its end (its connection is kept), not destroyed', async () => {
    const data = pattern(40_000);
    const body = pieces(data, [16_384]);
    const feed = bodyFeed(answer(body, { start: 0, end: data.length, size: data.length }), 0, data.length);
    const into = new Uint8Array(data.length);
    expect(await feed.fill(into, undefined)).toBe(data.length);
    // the fill that completes the range waits for the body's end: nothing is cut
    expect(body.readableEnded).toBe(true);
  });

  it('a 206 for another range than asked is SERVER_FAULT', () => {
    const body = Readable.from([pattern(10)]);
    expect(() => bodyFeed(answer(body, { start: 5, end: 15, size: 100 }), 0, 15)).toThrow(
      expect.objectContaining({ code: 'SERVER_FAULT' }),
    );
  });
});

describe('any other body (its async iterator)', () => {
  it('every byte once; a 200 answer trimmed to the range; an early end is a premature close', async () => {
    const object = pattern(150_000);
    const webBody = (bytes: Uint8Array) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 20_000) controller.enqueue(bytes.slice(at, at + 20_000));
          controller.close();
        },
      });
    const whole = await drain(
      bodyFeed(answer(webBody(object), { start: 0, end: 150_000, size: 150_000 }), 0, 150_000),
      65_536,
    );
    expect(Buffer.compare(whole.bytes, object)).toBe(0);
    const ranged = await drain(bodyFeed(answer(webBody(object), object.length), 33_333, 99_999), 16_400);
    expect(Buffer.compare(ranged.bytes, object.subarray(33_333, 99_999))).toBe(0);
    const short = bodyFeed(
      answer(webBody(object.subarray(0, 90_000)), { start: 0, end: 150_000, size: 150_000 }),
      0,
      150_000,
    );
    const into = new Uint8Array(150_000);
    expect(await short.fill(into, undefined)).toBe(90_000);
    await expect(short.fill(into, undefined)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });
});
