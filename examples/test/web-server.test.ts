/**
 * The web example's server as a hostile or careless client meets it (the page's own flow is driven
 * in Chromium by browser/test/web.test.ts): a client that hangs up mid-request, an endless body, a
 * request that names another host (DNS rebinding) or comes from another site's page, a body that is
 * not JSON. The server answers each with a status of its own and keeps serving.
 */
import { request } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshBucket, testClient } from '../../packages/sos/test/helpers.ts';
import { MAX_PART_SIZE } from '../web/api.ts';
import { startWebServer, type WebServer } from '../web/server.ts';

let client: S3Client;
let cleanup: () => Promise<void>;
let web: WebServer;
let port: number;

beforeAll(async () => {
  client = testClient();
  const made = await freshBucket(client);
  cleanup = made.cleanup;
  web = await startWebServer({
    client,
    bucket: made.bucket,
    storeOrigin: new URL(inject('s3').endpoint).origin,
  });
  port = Number(new URL(web.url).port);
});

afterAll(async () => {
  await web?.close();
  await cleanup?.();
});

interface Answer {
  status: number;
  body: string;
}

/** One request to the server with exactly these headers (Node adds only what is missing). */
function call(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = { 'content-type': 'application/json' };

/** The server still answers an ordinary request of the page. */
async function stillServing() {
  const list = await call('GET', '/api/objects');
  expect(list.status).toBe(200);
  expect(JSON.parse(list.body)).toMatchObject({ objects: [] });
}

describe('the web example server', () => {
  it('serves the page and its API to the page itself', async () => {
    const page = await call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');
    const started = await call('POST', '/api/uploads', {
      headers: { ...json, origin: web.url },
      body: JSON.stringify({ key: 'a.bin' }),
    });
    expect(started.status).toBe(200);
    const { uploadId } = JSON.parse(started.body);
    const aborted = await call('POST', '/api/uploads/abort', {
      headers: json,
      body: JSON.stringify({ key: 'a.bin', uploadId }),
    });
    expect(aborted.status).toBe(200);
  });

  it('signs a part URL for the length the page will PUT, and refuses a part URL without one or over its bound', async () => {
    const started = await call('POST', '/api/uploads', {
      headers: json,
      body: JSON.stringify({ key: 'p.bin' }),
    });
    const { uploadId } = JSON.parse(started.body);
    const part = (size: unknown) =>
      call('POST', '/api/uploads/part', {
        headers: json,
        body: JSON.stringify({ key: 'p.bin', uploadId, partNumber: 1, size }),
      });
    const signed = await part(1234);
    expect(signed.status).toBe(200);
    expect(JSON.parse(signed.body).url).toMatch(/X-Amz-SignedHeaders=content-length%3Bhost/);
    for (const size of [undefined, 0, -1, 1.5, '1234', MAX_PART_SIZE + 1, 5 * 1024 ** 3]) {
      const refused = await part(size);
      expect(refused.status, String(size)).toBe(400);
      expect(JSON.parse(refused.body).error.code).toBe('INVALID_ARGUMENT');
    }
    await call('POST', '/api/uploads/abort', {
      headers: json,
      body: JSON.stringify({ key: 'p.bin', uploadId }),
    });
  });

  it('keeps serving after a client hangs up in the middle of its request body', async () => {
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/uploads',
        headers: { ...json, 'content-length': '1000' },
      });
      req.on('error', () => resolve());
      req.write('{"key":');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    // the server saw its request stream fail: that must not end the process (it would, through an
    // unhandled rejection) nor stop it from answering
    await new Promise((r) => setTimeout(r, 100));
    await stillServing();
  });

  it('refuses a request body larger than any the API takes, without reading it all', async () => {
    const big = new Uint8Array(1024 * 1024).fill(0x20);
    const answer = await call('POST', '/api/uploads', { headers: json, body: big }).catch((err) => {
      // the server may answer and close before the client has sent it all
      return { status: -1, body: String(err) } as Answer;
    });
    if (answer.status !== -1) {
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body).error.code).toBe('BODY_TOO_LARGE');
    }
    await stillServing();
  });

  it('refuses a request naming another host (DNS rebinding)', async () => {
    const answer = await call('GET', '/api/objects', { headers: { host: `attacker.example:${port}` } });
    expect(answer.status).toBe(421);
    expect(answer.body).not.toContain('objects');
  });

  it("refuses the API to another site's page", async () => {
    const answer = await call('POST', '/api/objects/url', {
      headers: { ...json, origin: 'https://attacker.example' },
      body: JSON.stringify({ key: 'a.bin' }),
    });
    expect(answer.status).toBe(403);
    expect(answer.body).not.toContain('X-Amz-Signature');
  });

  it('takes API calls only as JSON (a form or text/plain post is refused)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const answer = await call('POST', '/api/objects/url', {
        headers: type ? { 'content-type': type } : {},
        body: JSON.stringify({ key: 'a.bin' }),
      });
      expect(answer.status, String(type)).toBe(415);
      expect(answer.body).not.toContain('X-Amz-Signature');
    }
  });

  it('answers a body that is not JSON with 400', async () => {
    const answer = await call('POST', '/api/uploads', { headers: json, body: '{"key": ' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.code).toBe('INVALID_ARGUMENT');
    await stillServing();
  });
});
