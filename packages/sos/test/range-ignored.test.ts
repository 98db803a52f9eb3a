/**
 * A store that ignores `Range` (answers 200 with the whole object to a ranged GET): the client
 * must keep only the bytes it asked for and stop receiving the rest, not buffer the object.
 *
 * The real RGW honours `Range`, so this one behaviour is tested against a tiny loopback server
 * that serves one object's bytes and ignores `Range`; the normal path is tested against the RGW
 * (client-side.test.ts, faults.test.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encrypt, generateKey } from '@sealstream/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GetObjectOptions, getObject } from '../src/index.ts';
import { bytes, collect, loopbackClient, sameBytes } from './helpers.ts';

const MiB = 1024 * 1024;
const key = generateKey();
const plain = bytes(24 * MiB + 5);
let sealed: Uint8Array;
let served: Uint8Array;
let server: Server;
let endpoint: string;
/** Per request: bytes written before the client closed the connection, and whether it asked for a range. */
const requests: { range: string | undefined; sent: number; complete: boolean }[] = [];

beforeAll(async () => {
  sealed = await encrypt(plain, { recipients: [key] });
  server = createServer((req, res) => {
    const record = { range: req.headers.range, sent: 0, complete: false };
    requests.push(record);
    res.writeHead(200, {
      'content-length': String(served.byteLength),
      etag: '"fixed-etag"',
      'content-type': 'application/octet-stream',
      'last-modified': new Date(0).toUTCString(),
    });
    // written in 64 KiB slices with backpressure, so what was sent before the client hung up is known
    let offset = 0;
    const pump = () => {
      while (offset < served.byteLength) {
        const slice = served.subarray(offset, offset + 64 * 1024);
        offset += slice.byteLength;
        record.sent = offset;
        if (!res.write(slice)) return void res.once('drain', pump);
      }
      record.complete = true;
      res.end();
    };
    res.on('close', () => res.off('drain', pump));
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Reads object `b/k` from the fake server (which checks no signature). */
function read(options: Omit<GetObjectOptions, 'client' | 'bucket' | 'key'>) {
  return getObject({ client: loopbackClient(endpoint), bucket: 'b', key: 'k', ...options });
}
const clientSide = { clientSide: { keys: [key] } };

describe('a server that ignores Range', () => {
  it('client-side ranged read: exact bytes, and the rest of each answer is not received', async () => {
    served = sealed;
    requests.length = 0;
    const got = await read({ encryption: clientSide, range: { start: 1000, end: 2 * MiB + 1 }, parallel: 1 });
    expect(sameBytes(await collect(got.body), plain.subarray(1000, 2 * MiB + 1))).toBe(true);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    for (const r of requests) {
      expect(r.range, 'every request asked for a range').toMatch(/^bytes=\d+-\d+$/);
      // the client hung up long before the 24 MiB object was through
      expect(r.complete).toBe(false);
      expect(r.sent).toBeLessThan(12 * MiB);
    }
  });

  it('client-side whole read: exact bytes', async () => {
    served = sealed;
    const got = await read({ encryption: clientSide, parallel: 2 });
    expect(sameBytes(await collect(got.body), plain)).toBe(true);
  });

  it('plain ranged read: only the range, the rest not received', async () => {
    served = plain;
    requests.length = 0;
    const got = await read({ encryption: 'none', range: 'bytes=100-199' });
    expect(got.size).toBe(100);
    expect(got.range).toEqual({ start: 100, end: 200 });
    expect(got.objectSize).toBe(plain.byteLength);
    expect(sameBytes(await collect(got.body), plain.subarray(100, 200))).toBe(true);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.complete).toBe(false);
  });
});
