/**
 * `fetch` for presigned URLs in Node tests: over node:https trusting the test CA (Node's own fetch
 * does not take a CA per call), counting the requests and the body bytes received.
 * @module
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { Readable } from 'node:stream';
import { inject } from 'vitest';

/** `fetch` over node:https trusting the test CA, counting requests and body bytes received. */
export function countingFetch() {
  const ca = readFileSync(inject('s3').caFile);
  const counter = { requests: 0, bytes: 0 };
  const doFetch = (url: string | URL | Request, init?: RequestInit): Promise<Response> =>
    new Promise((resolve, reject) => {
      counter.requests++;
      const req = request(
        String(url),
        {
          method: init?.method ?? 'GET',
          headers: init?.headers as Record<string, string>,
          ca,
          signal: init?.signal ?? undefined,
        },
        (res) => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') headers.set(name, value);
          }
          const count = new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              counter.bytes += chunk.byteLength;
              controller.enqueue(chunk);
            },
          });
          const body = (Readable.toWeb(res) as ReadableStream<Uint8Array>).pipeThrough(count);
          resolve(new Response(body, { status: res.statusCode!, headers }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  return { fetch: doFetch as typeof fetch, counter };
}
