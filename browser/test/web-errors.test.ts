/**
 * The web example in Chromium when things go wrong, as its user meets them: the page's server
 * failing or unreachable, the store resetting connections, a file changed on disk after it was
 * picked. The user must be told (the status line, in red), nothing may be left in the bucket, and
 * the page must not fail silently (no unhandled rejection). Faults are injected at the page's
 * network (Playwright's request routing); the store is the local RGW.
 */
import { closeSync, mkdtempSync, openSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { startWebServer, type WebServer } from '../../examples/web/server.ts';
import { freshBucket, openUploads, testClient } from '../../packages/sos/test/helpers.ts';
import { launchChromium } from '../harness/chromium.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let web: WebServer;
let browser: Browser;
const scratch = mkdtempSync(join(tmpdir(), 'sealstream-web-errors-'));

beforeAll(async () => {
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  web = await startWebServer({ client, bucket, storeOrigin: new URL(inject('s3').endpoint).origin });
  browser = await launchChromium({ trust: [inject('s3').caFile] });
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await cleanup?.();
  rmSync(scratch, { recursive: true, force: true });
});

/** The page, ready, with a key chosen; `errors` collects what it failed to handle. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(web.url);
  await page.waitForSelector('body[data-ready=true]');
  await page.click('#generate');
  return { page, errors };
}

const status = (page: Page) => page.textContent('#status');
const isError = (page: Page) =>
  page.evaluate(() => document.getElementById('status')!.classList.contains('error'));

/** Waits until the status line says how the upload ended. */
async function uploadEnded(page: Page): Promise<string> {
  await page.waitForFunction(
    () => /^(Uploaded|Upload failed)/.test(document.getElementById('status')!.textContent!),
    undefined,
    { timeout: 60_000 },
  );
  return (await status(page))!;
}

async function objectKeys(): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

test('Refresh when the server cannot list the bucket: the page says so, in red', async () => {
  const { page, errors } = await openPage();
  await page.route('**/api/objects', (route) =>
    route.fulfill({
      status: 502,
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'ACCESS_DENIED', message: 'the store refused the listing' } }),
    }),
  );
  await page.click('#refresh');
  await expect.poll(() => status(page)).toMatch(/list.*ACCESS_DENIED.*the store refused the listing/);
  expect(await isError(page)).toBe(true);
  expect(errors).toEqual([]);
  await page.close();
});

test('an upload that succeeds while the listing after it fails: "Uploaded", then the listing error, not "Upload failed"', async () => {
  const { page, errors } = await openPage();
  await page.route('**/api/objects', (route) => route.abort('connectionreset'));
  await page.setInputFiles('#file', {
    name: 'listed-later.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('hi'),
  });
  await page.click('#start');
  await expect
    .poll(() => status(page), { timeout: 30_000 })
    .toMatch(/^Uploaded listed-later\.txt.*could not/);
  expect(await objectKeys()).toContain('listed-later.txt');
  expect(errors).toEqual([]);
  await page.close();
});

test("the page's server unreachable mid-upload: the status says the page's server did not answer; the upload is aborted", async () => {
  const { page, errors } = await openPage();
  await page.route('**/api/uploads/part', (route) => route.abort('connectionreset'));
  await page.setInputFiles('#file', {
    name: 'server-down.bin',
    mimeType: 'application/octet-stream',
    buffer: Buffer.alloc(1000, 1),
  });
  await page.click('#start');
  const said = await uploadEnded(page);
  expect(said).toMatch(/^Upload failed: NETWORK_ERROR: .*server/);
  expect(await isError(page)).toBe(true);
  expect(await openUploads(client, bucket)).toBe(0);
  expect(await objectKeys()).not.toContain('server-down.bin');
  expect(errors).toEqual([]);
  await page.close();
});

test('the store resetting every part PUT: NETWORK_ERROR after the retries, and the upload is aborted', async () => {
  const { page, errors } = await openPage();
  const store = new URL(inject('s3').endpoint).origin;
  let puts = 0;
  await page.route(`${store}/**`, (route) => {
    if (route.request().method() !== 'PUT') return route.continue();
    puts++;
    return route.abort('connectionreset');
  });
  await page.setInputFiles('#file', {
    name: 'store-down.bin',
    mimeType: 'application/octet-stream',
    buffer: Buffer.alloc(1000, 2),
  });
  await page.click('#start');
  expect(await uploadEnded(page)).toMatch(/^Upload failed: NETWORK_ERROR: store-down\.bin: part 1/);
  expect(puts).toBe(3);
  expect(await openUploads(client, bucket)).toBe(0);
  expect(await objectKeys()).not.toContain('store-down.bin');
  expect(errors).toEqual([]);
  await page.close();
});

test('a file changed on disk after it was picked: SOURCE_CHANGED, nothing stored, no upload left', async () => {
  const { page, errors } = await openPage();
  const path = join(scratch, 'changed.bin');
  writeFileSync(path, Buffer.alloc(256 * 1024, 3));
  await page.setInputFiles('#file', path);
  // the page has the File as it was picked (its snapshot taken) before the file changes
  expect(await page.evaluate(() => document.querySelector<HTMLInputElement>('#file')!.files![0]!.size)).toBe(
    256 * 1024,
  );
  // what an editor saving the file does: other bytes, another modification time
  writeFileSync(path, Buffer.alloc(100 * 1024, 4));
  utimesSync(path, new Date(), new Date(Date.now() + 60_000));
  await page.click('#start');
  expect(await uploadEnded(page)).toMatch(/^Upload failed: SOURCE_CHANGED: .*pick it again/);
  expect(await openUploads(client, bucket)).toBe(0);
  expect(await objectKeys()).not.toContain('changed.bin');
  expect(errors).toEqual([]);
  await page.close();
});

test('Cancel mid-upload: the status says ABORTED, the multipart upload is aborted, nothing stored', async () => {
  const { page, errors } = await openPage();
  const store = new URL(inject('s3').endpoint).origin;
  // part 1 goes through, part 2 is held until the page gives up on it: Cancel surely comes mid-upload
  await page.route(`${store}/**`, async (route) => {
    const part = new URL(route.request().url()).searchParams.get('partNumber');
    if (route.request().method() === 'PUT' && part !== '1') return; // never answered
    await route.continue();
  });
  await page.setInputFiles('#file', {
    name: 'cancelled.bin',
    mimeType: 'application/octet-stream',
    buffer: Buffer.alloc(12 * 1024 * 1024, 5),
  });
  await page.click('#start');
  await expect.poll(() => status(page), { timeout: 30_000 }).toMatch(/^Sealed/);
  await page.click('#cancel');
  expect(await uploadEnded(page)).toMatch(/^Upload failed: ABORTED: cancelled\.bin/);
  expect(await isError(page)).toBe(true);
  expect(await page.isDisabled('#start')).toBe(false);
  expect(await openUploads(client, bucket)).toBe(0);
  expect(await objectKeys()).not.toContain('cancelled.bin');
  expect(errors).toEqual([]);
  await page.close();
});

test('a part URL the store refuses (a bad signature, as an expired one): asked again, a fresh URL, the upload completes', async () => {
  const { page, errors } = await openPage();
  let presigned = 0;
  await page.route('**/api/uploads/part', async (route) => {
    if (presigned++ > 0) return route.continue();
    const answer = await route.fetch();
    const { url } = (await answer.json()) as { url: string };
    const spoiled = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_, c) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
    );
    expect(spoiled).not.toBe(url);
    await route.fulfill({ response: answer, json: { url: spoiled } });
  });
  await page.setInputFiles('#file', {
    name: 'second-url.bin',
    mimeType: 'application/octet-stream',
    buffer: Buffer.alloc(1000, 6),
  });
  await page.click('#start');
  expect(await uploadEnded(page)).toMatch(/^Uploaded second-url\.bin/);
  expect(presigned).toBe(2);
  expect(await objectKeys()).toContain('second-url.bin');
  expect(await openUploads(client, bucket)).toBe(0);
  expect(errors).toEqual([]);
  await page.close();
});

test('a file changed on disk while it is being read (same size, other bytes): SOURCE_CHANGED, not a mix of old and new stored', async () => {
  const { page, errors } = await openPage();
  const store = new URL(inject('s3').endpoint).origin;
  // every part held until the file has changed: the page stops reading once 4 parts are in flight
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let puts = 0;
  await page.route(`${store}/**`, async (route) => {
    if (route.request().method() === 'PUT') {
      puts++;
      await held;
    }
    await route.continue().catch(() => {});
  });
  const MiB = 1024 * 1024;
  const path = join(scratch, 'edited.bin');
  writeFileSync(path, Buffer.alloc(48 * MiB, 7));
  await page.setInputFiles('#file', path);
  await page.click('#start');
  await expect.poll(() => puts, { timeout: 30_000 }).toBe(4);
  // an edit in place past what was read (4 parts of 8 MiB and the fifth being filled)
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(MiB, 8), 0, MiB, 46 * MiB);
  closeSync(fd);
  utimesSync(path, new Date(), new Date(Date.now() + 120_000));
  release();
  expect(await uploadEnded(page)).toMatch(/^Upload failed: SOURCE_CHANGED: .*pick it again/);
  expect(await openUploads(client, bucket)).toBe(0);
  expect(await objectKeys()).not.toContain('edited.bin');
  expect(errors).toEqual([]);
  await page.close();
});
