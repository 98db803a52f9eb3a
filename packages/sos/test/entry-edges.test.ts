/**
 * The runtime-neutral pieces the browser entry is made of, checked in Node: IP literals without
 * node:net, the table of headers a CORS rule must expose, and upload bodies without node:stream.
 */
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openBody, readerOf } from '../src/body.ts';
import { ipVersion } from '../src/client-options.ts';
import { headersToRead } from '../src/cors.ts';
import { sdkCorsRule } from '../src/index.ts';
import { collect } from './helpers.ts';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('ipVersion (isIP without node:net)', () => {
  // (zone IDs such as fe80::1%eth0 are left out: a URL's host never carries one)
  it('agrees with node:net isIP', () => {
    const hosts = [
      '127.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '256.1.1.1',
      '1.2.3',
      '01.2.3.4',
      '1.2.3.4.5',
      '::1',
      '::',
      '::ffff:127.0.0.1',
      '2001:db8::1',
      '0:0:0:0:0:0:0:1',
      ':::1',
      '1::2::3',
      'localhost',
      'sos-ch-gva-2.exo.io',
      '',
      '12345',
    ];
    for (const h of hosts) expect(ipVersion(h), h).toBe(isIP(h));
  });
});

describe('headersToRead: what a CORS rule must expose, by operation', () => {
  const read = (method: string, query: string, headers: Record<string, string> = {}) =>
    headersToRead(method, new URL(`https://s3.test/b/k${query}`), new Headers(headers));
  const sseC = { 'x-amz-server-side-encryption-customer-key': 'k' };
  const echo = [
    'x-amz-server-side-encryption-customer-algorithm',
    'x-amz-server-side-encryption-customer-key-MD5',
  ];
  it('UploadPart needs ETag; GetObject ETag, and Content-Range when ranged', () => {
    expect(read('PUT', '?x-id=UploadPart&partNumber=1&uploadId=u')).toEqual(['ETag']);
    expect(read('GET', '?x-id=GetObject')).toEqual(['ETag']);
    expect(read('GET', '?x-id=GetObject', { range: 'bytes=0-9' })).toEqual(['ETag', 'Content-Range']);
  });
  it('the SSE-C echo where a key was sent and the answer must confirm it', () => {
    expect(read('HEAD', '', sseC)).toEqual(echo);
    expect(read('PUT', '?x-id=PutObject', sseC)).toEqual(echo);
    expect(read('PUT', '?x-id=UploadPart&partNumber=1&uploadId=u', sseC)).toEqual(['ETag', ...echo]);
    expect(read('HEAD', '')).toEqual([]);
  });
  it('nothing for listings, creation, completion and abort', () => {
    expect(read('GET', '?list-type=2')).toEqual([]);
    expect(read('POST', '?uploads', sseC)).toEqual([]);
    expect(read('POST', '?uploadId=u', sseC)).toEqual([]);
    expect(read('DELETE', '?x-id=AbortMultipartUpload&uploadId=u')).toEqual([]);
  });
  it('sdkCorsRule exposes every header the table asks for', () => {
    const exposed = sdkCorsRule(['https://app.test']).ExposeHeaders!;
    for (const h of ['ETag', 'Content-Range', ...echo]) expect(exposed).toContain(h);
    expect(codeOf(() => sdkCorsRule([]))).toBe('INVALID_ARGUMENT');
  });
});

describe('openBody without node:stream', () => {
  it('takes bytes, a Blob (with its size), a web stream and a Node Readable', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(openBody(bytes)).toEqual({ body: bytes, size: 3 });
    const blob = openBody(new Blob([bytes, bytes]));
    expect(blob.size).toBe(6);
    expect(await collect(blob.body as ReadableStream<Uint8Array>)).toEqual(
      new Uint8Array([1, 2, 3, 1, 2, 3]),
    );
    const web = openBody(new Blob([bytes]).stream());
    expect(web.size).toBeUndefined();
    const node = openBody(Readable.from([bytes, bytes]));
    expect(await collect(node.body as ReadableStream<Uint8Array>)).toEqual(
      new Uint8Array([1, 2, 3, 1, 2, 3]),
    );
  });
  it('refuses a path (the Node entry reads those), a text stream and other values', async () => {
    expect(codeOf(() => openBody('/etc/hostname'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => openBody(42 as never))).toBe('INVALID_ARGUMENT');
    const text = openBody(Readable.from(['text']));
    await expect(collect(text.body as ReadableStream<Uint8Array>)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
  it('cancelling the reader destroys a Node Readable source', async () => {
    const source = new Readable({ read() {} });
    source.push(new Uint8Array(10));
    const reader = readerOf(openBody(source).body as ReadableStream<Uint8Array>);
    const it = reader[Symbol.asyncIterator]();
    expect((await it.next()).value).toHaveLength(10);
    const pending = it.next();
    reader.cancel(new Error('stop'));
    expect((await pending).done).toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(source.destroyed).toBe(true);
  });
});
