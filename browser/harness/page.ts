/**
 * One Chromium page on a test server, ready when its bundle has run (it sets `document.title` to
 * `ready`); console errors and page errors are kept, so a failing test can show them.
 * @module
 */
import type { Browser, Page } from 'playwright-core';

/** A page, and what it logged. */
export interface ReadyPage {
  page: Page;
  errors: string[];
}

/** Opens `url` in a fresh context and waits for the page script to be ready. */
export async function openReadyPage(browser: Browser, url: string): Promise<ReadyPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  try {
    await page.waitForFunction(
      // typed without the DOM library: the bench (Node-only types) imports this harness too
      () => (globalThis as unknown as { document: { title: string } }).document.title === 'ready',
      undefined,
      { timeout: 20_000 },
    );
  } catch (err) {
    throw new Error(`the test page at ${url} did not get ready: ${errors.join('; ') || String(err)}`);
  }
  return { page, errors };
}

/**
 * Calls `fn` of the object the page script put on `globalThis[name]` with `args`, in the page, and
 * returns its result (structured-cloned back).
 */
export function callInPage<T>(page: Page, name: string, fn: string, ...args: unknown[]): Promise<T> {
  type Api = Record<string, (...args: unknown[]) => unknown>;
  return page.evaluate(
    ([name, fn, args]) => (globalThis as unknown as Record<string, Api>)[name]![fn]!(...args),
    [name, fn, args] as [string, string, unknown[]],
  ) as Promise<T>;
}
