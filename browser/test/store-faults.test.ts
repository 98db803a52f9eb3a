/**
 * A store that answers wrongly, met in Chromium: a body that stalls after its headers, or breaks
 * off mid-way. The browser entry's getObject and a presigned download must each end in a typed
 * error within their time bounds (fetch's own timeout ends with the headers). The store is a route
 * of the test server (the page's own origin): the RGW cannot be made to misbehave like this.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bundleForBrowser } from '../harness/bundle.ts';
import { launchChromium } from '../harness/chromium.ts';
import { callInPage, openReadyPage } from '../harness/page.ts';
import { startTestServer, type TestServer } from '../harness/server.ts';

const SIZE = 100_000;
let browser: Browser;
let server: TestServer;
let page: Page;
const requests: string[] = [];

/**
 * /fake/<mode> (a path-style bucket "fake") and /p/<mode>: an object of SIZE bytes whose body, after
 * its first 1000 bytes (none when a read resumes past them), stalls (`stall`) or is cut by a reset
 * (`reset`).
 */
function fakeStore(req: IncomingMessage, res: ServerResponse): boolean {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'PUT' && path.startsWith('/fake/hang')) {
    // takes the body, never answers
    requests.push(`PUT ${path}`);
    req.resume();
    return true;
  }
  const m = /^\/(?:fake|p)\/(stall|reset)/.exec(path);
  if (!m) return false;
  requests.push(`${req.method} ${m[1]} ${req.headers.range ?? ''}`.trim());
  const r = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  const start = r ? Number(r[1]) : 0;
  const end = r?.[2] ? Math.min(Number(r[2]) + 1, SIZE) : SIZE;
  res.writeHead(r ? 206 : 200, {
    etag: '"fixed"',
    'content-type': 'application/octet-stream',
    'content-length': String(end - start),
    ...(r ? { 'content-range': `bytes ${start}-${end - 1}/${SIZE}` } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  // bytes only from the start: a resumed read gets none, so it cannot make progress for ever
  if (start === 0) res.write(new Uint8Array(1000));
  else res.flushHeaders();
  if (m[1] === 'reset') setTimeout(() => res.socket?.destroy(), 20);
  return true;
}

beforeAll(async () => {
  const script = (await bundleForBrowser(new URL('../pages/store-faults.ts', import.meta.url).pathname)).code;
  server = await startTestServer({ script, route: fakeStore });
  browser = await launchChromium();
  ({ page } = await openReadyPage(browser, server.origin));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const call = <T = any>(fn: string, args: unknown) => callInPage<T>(page, 'faultTest', fn, args);

describe('the browser entry (getObject over fetch)', () => {
  test('a body that stalls after its headers: resumed, then DOWNLOAD_INCOMPLETE naming the idle timeout, not a hang', async () => {
    requests.length = 0;
    const got = await call('sdkGet', { key: 'stall', idleMs: 300 });
    expect(got).toMatchObject({
      ok: false,
      error: { code: 'DOWNLOAD_INCOMPLETE', message: expect.stringContaining('idle timeout') },
    });
    // each GET after the first resumed from the first byte not yet received
    expect(requests.slice(0, 2)).toEqual(['GET stall', 'GET stall bytes=1000-99999']);
  }, 30_000);

  test("a body cut by a reset: resumed, then DOWNLOAD_INCOMPLETE, not the browser's bare TypeError", async () => {
    requests.length = 0;
    const got = await call('sdkGet', { key: 'reset', idleMs: 5000 });
    expect(got).toMatchObject({
      ok: false,
      error: { code: 'DOWNLOAD_INCOMPLETE', message: expect.stringContaining('broke off') },
    });
    expect(requests.slice(0, 2)).toEqual(['GET reset', 'GET reset bytes=1000-99999']);
  }, 30_000);

  test('aborted while the body stalls: ABORTED at once, not after idleMs', async () => {
    const got = await call('sdkGet', { key: 'stall', idleMs: 600_000, abortAfterMs: 200 });
    expect(got).toMatchObject({ ok: false, error: { code: 'ABORTED' } });
  }, 30_000);

  test('a PUT the store takes and never answers: TIMEOUT after requestMs and the retries', async () => {
    requests.length = 0;
    const got = await call('sdkPut', { key: 'hang', requestMs: 300 });
    expect(got).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
    expect(requests.length).toBeGreaterThan(0);
    // SSE-C sends its key in headers: refused to a plain-http store before any request, so this
    // fake (http on loopback) cannot stand in for the store there
    requests.length = 0;
    const sseC = await call('sdkPut', { key: 'hang', requestMs: 300, sseC: true });
    expect(sseC).toMatchObject({ ok: false, error: { code: 'INSECURE_ENDPOINT' } });
    expect(requests).toEqual([]);
  }, 30_000);

  test('the same PUT aborted by the page: ABORTED at once', async () => {
    const got = await call('sdkPut', { key: 'hang', requestMs: 600_000, abortAfterMs: 200 });
    expect(got).toMatchObject({ ok: false, error: { code: 'ABORTED' } });
  }, 30_000);
});

describe('a presigned download', () => {
  test('a stalled body: TIMEOUT; a body cut by a reset: NETWORK_ERROR saying it broke off', async () => {
    expect(await call('presignedRead', { path: '/p/stall', timeoutMs: 300 })).toMatchObject({
      ok: false,
      error: { code: 'TIMEOUT' },
    });
    expect(await call('presignedRead', { path: '/p/reset', timeoutMs: 5000 })).toMatchObject({
      ok: false,
      error: { code: 'NETWORK_ERROR', message: expect.stringContaining('broke off') },
    });
  }, 30_000);
});
