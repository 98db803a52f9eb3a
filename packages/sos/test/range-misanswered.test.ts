/**
 * A store (or a proxy or cache in front of it) that answers a ranged GET with 206 and other bytes
 * than those asked for. Plain and SSE-C bytes carry no authentication, so nothing after the
 * transport would notice: the read must refuse an answer that starts elsewhere or runs past the
 * range, and resume one that starts right but ends early.
 *
 * The real RGW answers ranges correctly, so this is a tiny loopback server whose answers each test
 * sets; the normal path is tested against the RGW (range-edges.test.ts, faults.test.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getObject, isSosError } from '../src/index.ts';
import { bytes, collect, loopbackClient, sameBytes } from './helpers.ts';

const object = bytes(10_000);
let server: Server;
let endpoint: string;
/** What the server answers to a request for `[start, end)`: the range it claims and sends. */
let answer: (start: number, end: number) => { start: number; end: number };
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    asked.push(req.headers.range ?? '');
    if (!m || (m[1] === '' && m[2] === '')) {
      res.writeHead(416).end();
      return;
    }
    const size = object.byteLength;
    // `bytes=a-b`, `bytes=a-` or the suffix `bytes=-n`, as [start, end)
    const [start, end] =
      m[1] === '' ? [size - Number(m[2]), size] : [Number(m[1]), m[2] === '' ? size : Number(m[2]) + 1];
    const sent = answer(start, end);
    res.writeHead(206, {
      'content-length': String(sent.end - sent.start),
      'content-range': `bytes ${sent.start}-${sent.end - 1}/${object.byteLength}`,
      etag: '"fixed-etag"',
      'content-type': 'application/octet-stream',
      'last-modified': new Date(0).toUTCString(),
    });
    res.end(object.subarray(sent.start, sent.end));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function read(range: string) {
  return getObject({ client: loopbackClient(endpoint), bucket: 'b', key: 'k', encryption: 'none', range });
}

async function refused(range: string) {
  const err = await read(range).then(
    async (got) => {
      await collect(got.body);
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(isSosError(err, 'SERVER_FAULT'), String(err)).toBe(true);
  expect((err as Error).message).toContain(`to a request for ${range}`);
}

describe('a ranged GET answered with other bytes than asked', () => {
  it('an answer for the start of the object instead of the range is refused', async () => {
    answer = (start, end) => ({ start: 0, end: end - start });
    await refused('bytes=1000-1999');
  });

  it('an answer that starts right but runs past the range is refused', async () => {
    answer = (start, end) => ({ start, end: end + 500 });
    await refused('bytes=1000-1999');
  });

  it('a suffix range answered from the wrong place is refused', async () => {
    answer = () => ({ start: 0, end: 100 });
    await refused('bytes=-100');
  });

  it('an answer that starts right and ends early is resumed: exactly the bytes asked', async () => {
    asked.length = 0;
    answer = (start, end) => ({ start, end: Math.min(end, start + 300) });
    const got = await read('bytes=1000-1999');
    expect(got.range).toEqual({ start: 1000, end: 2000 });
    expect(sameBytes(await collect(got.body), object.subarray(1000, 2000))).toBe(true);
    expect(asked[0]).toBe('bytes=1000-1999');
    expect(asked.length).toBeGreaterThan(1);
  });

  it('a correct answer reads as before', async () => {
    answer = (start, end) => ({ start, end });
    const got = await read('bytes=-100');
    expect(got.range).toEqual({ start: 9900, end: 10_000 });
    expect(sameBytes(await collect(got.body), object.subarray(9900))).toBe(true);
  });
});
