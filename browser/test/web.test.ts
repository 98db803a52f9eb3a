/**
 * The web example driven end to end in Chromium against the local RGW: choose a file, seal and
 * upload it, see it listed with its key ID, preview a range, download it and compare the bytes.
 * Leaves a screenshot in .tmp/artifacts/web.png (kept by CI).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { decrypt, keyId, parseKey } from '@sealstream/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { startWebServer, type WebServer } from '../../examples/web/server.ts';
import { freshBucket, openUploads, testClient } from '../../packages/sos/test/helpers.ts';
import { launchChromium } from '../harness/chromium.ts';

const artifacts = resolve(import.meta.dirname, '../../.tmp/artifacts');
let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let web: WebServer;
let browser: Browser;

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
});

/** A text file of `size` bytes, so the preview shows readable lines. */
function textFile(size: number): Uint8Array {
  const lines: string[] = [];
  let length = 0;
  for (let i = 1; length < size; i++) {
    const line = `line ${String(i).padStart(7, '0')}: sealed in the browser, stored sealed\n`;
    lines.push(line);
    length += line.length;
  }
  return new TextEncoder().encode(lines.join('')).subarray(0, size);
}

test('choose a file, seal and upload it, list it, preview a range, download it: same bytes', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(web.url);
  await page.waitForSelector('body[data-ready=true]');
  await expect.poll(() => page.textContent('#bucket')).toBe(bucket);

  const content = textFile(12 * 1024 * 1024 + 99);
  await page.click('#generate');
  const keyText = await page.inputValue('#key');
  const key = parseKey(keyText);
  expect(await page.textContent('#key-id')).toBe(keyId(key));
  await page.setInputFiles('#file', {
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from(content),
  });
  await page.click('#start');
  await page.waitForFunction(
    () => /Uploaded|failed/.test(document.getElementById('status')!.textContent!),
    undefined,
    {
      timeout: 60_000,
    },
  );
  expect(await page.textContent('#status')).toMatch(
    /^Uploaded notes\.txt: 12\.0 MiB sealed into 12\.0 MiB, 2 part\(s\)\.$/,
  );
  expect(await page.evaluate(() => (document.getElementById('progress') as HTMLProgressElement).value)).toBe(
    1,
  );

  // listed, with the plaintext size and key ID read from the header by a ranged GET
  const row = page.locator('tr[data-key="notes.txt"]');
  await expect.poll(() => row.locator('td').nth(3).textContent()).toBe(`key ${keyId(key)}`);
  expect(await row.locator('td').nth(2).textContent()).toBe('12.0 MiB');

  // the stored object is sealed, bound to bucket/key, and opens in Node
  const stored = await (
    await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'notes.txt' }))
  ).Body!.transformToByteArray();
  expect(Buffer.from(stored).includes(Buffer.from('sealed in the browser'))).toBe(false);
  expect(
    Buffer.compare(await decrypt(stored, { keys: [key], identity: `${bucket}/notes.txt` }), content),
  ).toBe(0);
  expect(await openUploads(client, bucket)).toBe(0);

  // preview: bytes [100, 356) only
  await page.fill('#range-start', '100');
  await page.fill('#range-end', '356');
  await row.getByRole('button', { name: 'Preview' }).click();
  await page.waitForSelector('#preview:not([hidden])');
  const shown = (await page.textContent('#preview'))!;
  expect(shown).toContain(
    `notes.txt [100, 356) of ${content.length} bytes:\n${new TextDecoder().decode(content.subarray(100, 356))}`,
  );

  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: resolve(artifacts, 'web.png'), fullPage: true });

  // download: decrypted in the page, saved by the browser, byte for byte the file chosen
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    row.getByRole('button', { name: 'Download' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('notes.txt');
  const saved = readFileSync((await download.path())!);
  expect(saved.length).toBe(content.length);
  expect(Buffer.compare(saved, content)).toBe(0);
  await page.waitForFunction(() => /Decrypted/.test(document.getElementById('status')!.textContent!));

  // a wrong key: the page says NO_MATCHING_KEY and saves nothing
  await page.click('#generate');
  await row.getByRole('button', { name: 'Preview' }).click();
  await expect.poll(() => page.textContent('#status')).toMatch(/^Preview failed: NO_MATCHING_KEY/);
  expect(errors).toEqual([]);
}, 120_000);
