/**
 * The page side of presigned transfers when the other party misbehaves: a presigner (the page's
 * own server) that never answers, a store whose answer's body stalls or breaks off, options that
 * would retry without end, a Blob that cannot be read to its end. Every wait must end in a typed
 * error and, for an upload, an aborted multipart upload. The store is a loopback HTTP server
 * answering wrongly (the RGW cannot be made to); the happy paths are tested on the RGW elsewhere.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encrypt, generateKey, openSealed } from '@sealstream/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PresignedSource } from '../src/presigned/download.ts';
import { type UploadPresigner, uploadSealed } from '../src/presigned/upload.ts';
import { codeOf } from './helpers.ts';

const key = generateKey();
const encryption = { recipients: [key] };
/** The whole test's bound: an old hang fails here rather than at vitest's minute. */
const HANG = 10_000;

/** What the fake store does with the next request, by path. */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const handlers = new Map<string, Handler>();
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.on('error', () => {});
    const handler = handlers.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends headers and the first `sent` bytes of a `total`-byte body, then `then` (stall or reset). */
const partial =
  (status: number, headers: Record<string, string>, sent: number, then: 'stall' | 'reset'): Handler =>
  (_req, res) => {
    res.writeHead(status, headers);
    res.write(new Uint8Array(sent));
    if (then === 'reset') setTimeout(() => res.socket?.destroy(), 20);
  };

/** A presigner that records its calls; each function can be replaced. */
function presigner(overrides: Partial<UploadPresigner> = {}) {
  const calls: string[] = [];
  const p: UploadPresigner = {
    create: async () => {
      calls.push('create');
      return { uploadId: 'u1' };
    },
    partUrl: async (_id, n) => {
      calls.push(`partUrl ${n}`);
      return `${origin}/part`;
    },
    complete: async () => {
      calls.push('complete');
      return { etag: '"done"' };
    },
    abort: async (id) => {
      calls.push(`abort ${id}`);
    },
    ...overrides,
  };
  return { p, calls };
}

const never = () => new Promise<never>(() => {});
const acceptPart: Handler = (req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { etag: '"p"' }).end());
};
const small = () => new Blob([new Uint8Array(1000)]);

describe('a presigner (the page server) that never answers fails the upload, bounded by timeoutMs', () => {
  test(
    'partUrl: TIMEOUT naming the presigner, and the upload is aborted',
    async () => {
      const { p, calls } = presigner({ partUrl: never });
      const err = await uploadSealed(small(), { encryption, presigner: p, timeoutMs: 100 }).catch((e) => e);
      expect(err).toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/partUrl|URL/) });
      expect(calls).toEqual(['create', 'abort u1']);
    },
    HANG,
  );

  test(
    'complete: TIMEOUT saying the outcome is unknown (the store may have made the object), and the upload is aborted',
    async () => {
      handlers.set('/part', acceptPart);
      const { p, calls } = presigner({ complete: never });
      const err = await uploadSealed(small(), { encryption, presigner: p, timeoutMs: 200 }).catch((e) => e);
      expect(err).toMatchObject({
        code: 'TIMEOUT',
        message: expect.stringMatching(/complete .*the object may have been stored/),
      });
      expect(calls).toEqual(['create', 'partUrl 1', 'abort u1']);
    },
    HANG,
  );

  test(
    'abort (after a failure): UPLOAD_NOT_ABORTED naming the upload, not a hang',
    async () => {
      const { p } = presigner({
        partUrl: async () => {
          throw new Error('presign server down');
        },
        abort: never,
      });
      const err = await uploadSealed(small(), { encryption, presigner: p, timeoutMs: 100 }).catch((e) => e);
      expect(err).toMatchObject({ code: 'UPLOAD_NOT_ABORTED', uploadId: 'u1' });
      expect(err.message).toContain('presign server down');
    },
    HANG,
  );

  test(
    'create, then the page aborts: ABORTED at once; an upload created after that is aborted',
    async () => {
      let created!: (v: { uploadId: string }) => void;
      const { p, calls } = presigner({
        create: () => new Promise((resolve) => (created = resolve)),
      });
      const controller = new AbortController();
      const upload = uploadSealed(small(), { encryption, presigner: p, signal: controller.signal });
      await Promise.resolve();
      controller.abort();
      expect(await codeOf(upload)).toBe('ABORTED');
      created({ uploadId: 'late' });
      await new Promise((r) => setTimeout(r, 10));
      expect(calls).toEqual(['abort late']);
    },
    HANG,
  );

  test(
    'partUrl pending when the page aborts: ABORTED at once, and the upload is aborted',
    async () => {
      const { p, calls } = presigner({ partUrl: never });
      const controller = new AbortController();
      const upload = uploadSealed(small(), { encryption, presigner: p, signal: controller.signal });
      while (!calls.includes('create')) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      expect(await codeOf(upload)).toBe('ABORTED');
      expect(calls).toEqual(['create', 'abort u1']);
    },
    HANG,
  );
});

describe('an abort that comes while complete is under way', () => {
  test(
    'is not taken: the store may have made the object already, so the upload ends as complete says',
    async () => {
      handlers.set('/part', acceptPart);
      let completed!: (v: { etag: string }) => void;
      const { p, calls } = presigner({
        complete: () => {
          calls.push('complete');
          return new Promise((resolve) => (completed = resolve));
        },
      });
      const controller = new AbortController();
      const upload = uploadSealed(small(), { encryption, presigner: p, signal: controller.signal });
      while (!calls.includes('complete')) await new Promise((r) => setTimeout(r, 5));
      controller.abort();
      await new Promise((r) => setTimeout(r, 20));
      completed({ etag: '"whole"' });
      expect(await upload).toMatchObject({ uploadId: 'u1', etag: '"whole"', parts: 1 });
      expect(calls).toEqual(['create', 'partUrl 1', 'complete']);
    },
    HANG,
  );
});

describe('progress', () => {
  test(
    'counts only parts the store acknowledged: part 2 refused, uploadedBytes never passes part 1',
    async () => {
      const MiB = 1024 * 1024;
      handlers.set('/part', (req, res) => {
        const n = new URL(req.url ?? '/', 'http://x').searchParams.get('partNumber');
        req.resume();
        req.on('end', () => {
          if (n === '1') res.writeHead(200, { etag: '"p1"' }).end();
          else res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
        });
      });
      const { p, calls } = presigner({
        partUrl: async (id, n) => {
          calls.push(`partUrl ${n}`);
          return `${origin}/part?uploadId=${id}&partNumber=${n}`;
        },
      });
      const seen: { uploadedBytes: number; partsUploaded: number }[] = [];
      const err = await uploadSealed(new Blob([new Uint8Array(6 * MiB)]), {
        encryption,
        presigner: p,
        partSize: 5 * MiB,
        partsInFlight: 1,
        onProgress: ({ uploadedBytes, partsUploaded }) => seen.push({ uploadedBytes, partsUploaded }),
      }).catch((e) => e);
      expect(err).toMatchObject({ code: 'ACCESS_DENIED', status: 403 });
      expect(seen).toEqual([{ uploadedBytes: 5 * MiB, partsUploaded: 1 }]);
      expect(calls).toEqual(['create', 'partUrl 1', 'partUrl 2', 'abort u1']);
    },
    HANG,
  );
});

describe("the store's answer: every wait on its body is bounded and typed", () => {
  test(
    'a refused part (403) whose error body never ends: ACCESS_DENIED, the upload aborted',
    async () => {
      handlers.set('/part', (req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(403, { 'content-type': 'application/xml' });
          res.write('<Error><Code>AccessDenied</Code>');
        });
      });
      const { p, calls } = presigner();
      const err = await uploadSealed(small(), { encryption, presigner: p, timeoutMs: 200 }).catch((e) => e);
      expect(err).toMatchObject({ code: 'ACCESS_DENIED', status: 403 });
      expect(calls).toEqual(['create', 'partUrl 1', 'abort u1']);
    },
    HANG,
  );

  test(
    'the first read: a 206 body that stalls is TIMEOUT, one cut short is NETWORK_ERROR',
    async () => {
      const headers = { etag: '"e"', 'content-range': 'bytes 0-4095/100000', 'content-length': '4096' };
      handlers.set('/stall', partial(206, headers, 1000, 'stall'));
      handlers.set('/reset', partial(206, headers, 1000, 'reset'));
      expect(await codeOf(PresignedSource.open(`${origin}/stall`, { timeoutMs: 200 }))).toBe('TIMEOUT');
      const err = await PresignedSource.open(`${origin}/reset`, { timeoutMs: 5000 }).catch((e) => e);
      expect(err).toMatchObject({ code: 'NETWORK_ERROR', message: expect.stringContaining('broke off') });
    },
    HANG,
  );

  test(
    'the first read answered 200 (Range ignored): a body that stalls is TIMEOUT, one cut short NETWORK_ERROR',
    async () => {
      const headers = { etag: '"e"', 'content-length': '100000' };
      handlers.set('/stall', partial(200, headers, 1000, 'stall'));
      handlers.set('/reset', partial(200, headers, 1000, 'reset'));
      expect(await codeOf(PresignedSource.open(`${origin}/stall`, { timeoutMs: 200 }))).toBe('TIMEOUT');
      expect(await codeOf(PresignedSource.open(`${origin}/reset`))).toBe('NETWORK_ERROR');
    },
    HANG,
  );

  test(
    'a later ranged read: a stalled body is TIMEOUT; aborted while the body is awaited, ABORTED',
    async () => {
      let mode: 'first' | 'stall' = 'first';
      handlers.set('/object', (_req, res) => {
        if (mode === 'first') {
          res.writeHead(206, {
            etag: '"e"',
            'content-range': 'bytes 0-4095/100000',
            'content-length': '4096',
          });
          res.end(new Uint8Array(4096));
          return;
        }
        res.writeHead(206, {
          etag: '"e"',
          'content-range': 'bytes 50000-59999/100000',
          'content-length': '10000',
        });
        res.write(new Uint8Array(100));
      });
      const source = await PresignedSource.open(`${origin}/object`, { timeoutMs: 300 });
      mode = 'stall';
      expect(await codeOf(source.read(50_000, 60_000))).toBe('TIMEOUT');
      const patient = await (async () => {
        mode = 'first';
        const s = await PresignedSource.open(`${origin}/object`, { timeoutMs: 60_000 });
        mode = 'stall';
        return s;
      })();
      const controller = new AbortController();
      const read = patient.read(50_000, 60_000, controller.signal);
      await new Promise((r) => setTimeout(r, 100));
      controller.abort();
      expect(await codeOf(read)).toBe('ABORTED');
    },
    HANG,
  );
});

describe('a body cut once (a flaky network)', () => {
  test(
    'the first read and a ranged read are asked again and succeed; with attempts 1, NETWORK_ERROR',
    async () => {
      const object = new Uint8Array(100_000).map((_, i) => i & 0xff);
      const served: string[] = [];
      /** Cuts the body of every other request after 1000 bytes. */
      handlers.set('/flaky', (req, res) => {
        const r = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')!;
        const start = Number(r[1]);
        const end = Math.min(Number(r[2]) + 1, object.length);
        const cut = served.push(req.headers.range!) % 2 === 1;
        res.writeHead(206, {
          etag: '"e"',
          'content-length': String(end - start),
          'content-range': `bytes ${start}-${end - 1}/${object.length}`,
        });
        if (!cut) return void res.end(object.subarray(start, end));
        res.write(object.subarray(start, start + 1000));
        setTimeout(() => res.socket?.destroy(), 20);
      });
      const source = await PresignedSource.open(`${origin}/flaky`);
      expect(source.size).toBe(object.length);
      const bytes = await source.read(10_000, 90_000);
      expect(Buffer.compare(bytes, object.subarray(10_000, 90_000))).toBe(0);
      expect(served).toEqual(['bytes=0-4095', 'bytes=0-4095', 'bytes=10000-89999', 'bytes=10000-89999']);
      served.length = 0;
      const once = await PresignedSource.open(`${origin}/flaky`, { attempts: 1 }).catch((e) => e);
      expect(once).toMatchObject({ code: 'NETWORK_ERROR' });
    },
    HANG,
  );
});

describe('options that would retry without end or time out at once are refused', () => {
  test('attempts and timeoutMs out of range: INVALID_ARGUMENT before any request', async () => {
    const asked: string[] = [];
    const fetch = (async (url: string) => {
      asked.push(url);
      return new Response(null, { status: 503 });
    }) as unknown as typeof globalThis.fetch;
    const bad = [
      { attempts: 0 },
      { attempts: Number.NaN },
      { attempts: Number.POSITIVE_INFINITY },
      { timeoutMs: 0 },
      { timeoutMs: -1 },
      // past a timer's 2^31 - 1 ms a timeout fires at once, failing every request
      { timeoutMs: 2 ** 32 },
    ];
    const codes = [];
    for (const options of bad)
      codes.push(await codeOf(PresignedSource.open('http://x/o', { fetch, ...options })));
    expect(codes).toEqual(bad.map(() => 'INVALID_ARGUMENT'));
    const { p, calls } = presigner();
    expect(await codeOf(uploadSealed(small(), { encryption, presigner: p, attempts: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(asked).toEqual([]);
    expect(calls).toEqual([]);
  });

  test('a locked source stream, or a URL that is neither text nor a function: INVALID_ARGUMENT before any call', async () => {
    const locked = new Blob([new Uint8Array(10)]).stream();
    locked.getReader();
    const { p, calls } = presigner();
    expect(await codeOf(uploadSealed(locked, { encryption, presigner: p }))).toBe('INVALID_ARGUMENT');
    expect(calls).toEqual([]);
    for (const url of [undefined, 42, '', { href: 'x' }]) {
      expect(await codeOf(PresignedSource.open(url as string)), String(url)).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('a Blob that cannot be read to its end (a File changed after it was picked)', () => {
  /**
   * A File that "changes" after `good` bytes: a stream of it fails there, as Chromium's does for a
   * changed file, and so does every read opened after that.
   */
  class FailingBlob extends Blob {
    #opened = 0;
    constructor(
      readonly total: number,
      readonly good: number,
    ) {
      super([new Uint8Array(total)]);
    }
    override slice(start = 0, end = this.total): Blob {
      const failing = this.#opened++ > 0;
      const good = this.good;
      const notReadable = () =>
        Object.assign(new Error('The requested file could not be read'), { name: 'NotReadableError' });
      return new (class extends Blob {
        override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
          let sent = failing;
          return new ReadableStream({
            pull(c) {
              if (sent) return c.error(notReadable());
              sent = true;
              c.enqueue(new Uint8Array(Math.min(good, end - start)));
            },
          });
        }
        override arrayBuffer(): Promise<ArrayBuffer> {
          return Promise.reject(notReadable());
        }
      })([new Uint8Array(end - start)]);
    }
  }

  test(
    'SOURCE_CHANGED saying so (the browser error as cause), and the upload is aborted',
    async () => {
      handlers.set('/part', acceptPart);
      const { p, calls } = presigner();
      const err = await uploadSealed(new FailingBlob(100_000, 1000), { encryption, presigner: p }).catch(
        (e) => e,
      );
      expect(err).toMatchObject({ code: 'SOURCE_CHANGED', message: expect.stringContaining('picked') });
      expect(err.cause?.name).toBe('NotReadableError');
      expect(calls).toEqual(['create', 'abort u1']);
    },
    HANG,
  );

  test(
    'a Blob that ends short of its size: SOURCE_CHANGED, not a short object completed',
    async () => {
      /** A file that shrank after it was picked: its reads end early. */
      class ShortBlob extends Blob {
        override slice(): Blob {
          return new Blob([new Uint8Array(10)]);
        }
      }
      handlers.set('/part', acceptPart);
      const { p, calls } = presigner();
      const err = await uploadSealed(new ShortBlob([new Uint8Array(1000)]), {
        encryption,
        presigner: p,
      }).catch((e) => e);
      expect(err).toMatchObject({ code: 'SOURCE_CHANGED' });
      expect(calls).not.toContain('complete');
      expect(calls.at(-1)).toBe('abort u1');
    },
    HANG,
  );
});

describe('a store that changes bytes under the same ETag (a lying cache)', () => {
  test(
    'no plaintext of a tampered chunk is released: the stream stops before it, CHUNK_AUTH_FAILED; a range over it gives nothing',
    async () => {
      const plaintext = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
      const sealed = await encrypt(plaintext, encryption);
      const served = sealed.slice();
      // a byte in the middle of the payload, after the first read's 4 KiB
      const at = Math.floor(sealed.length / 2);
      handlers.set('/lying', (req, res) => {
        const r = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        const start = r ? Number(r[1]) : 0;
        const end = r ? Math.min(Number(r[2]) + 1, served.length) : served.length;
        res.writeHead(r ? 206 : 200, {
          etag: '"same"',
          'content-length': String(end - start),
          ...(r ? { 'content-range': `bytes ${start}-${end - 1}/${served.length}` } : {}),
        });
        res.end(served.subarray(start, end));
      });
      const source = await PresignedSource.open(`${origin}/lying`);
      served[at]! ^= 1;
      const object = await openSealed(source, { keys: [key] });
      const released: Uint8Array[] = [];
      const err = await (async () => {
        for await (const piece of object.stream() as unknown as AsyncIterable<Uint8Array>)
          released.push(piece.slice());
      })().catch((e) => e);
      expect(err).toMatchObject({ code: 'CHUNK_AUTH_FAILED' });
      const total = released.reduce((n, p) => n + p.length, 0);
      const whole = new Uint8Array(total);
      let o = 0;
      for (const piece of released) {
        whole.set(piece, o);
        o += piece.length;
      }
      // what was released is the true plaintext, and ends before the tampered byte's chunk
      expect(Buffer.compare(whole, plaintext.subarray(0, total))).toBe(0);
      expect(total).toBeLessThan(at - 4096);
      const range = await object.read({ start: total, end: plaintext.length }).catch((e) => e);
      expect(range).toMatchObject({ code: 'CHUNK_AUTH_FAILED' });
    },
    HANG,
  );
});
