/**
 * The setup every page test repeats: a page script bundled for the browser (with core's sealing
 * Worker beside it), served by a test server, opened in Chromium until ready, and a way to call
 * the functions it put on `globalThis[api]`.
 * @module
 */
import type { Browser, Page } from 'playwright-core';
import { bundleForBrowser, bundleSealWorker } from './bundle.ts';
import { type LaunchOptions, launchChromium } from './chromium.ts';
import { callInPage, openReadyPage } from './page.ts';
import { startTestServer, type TestServer, type TestServerOptions } from './server.ts';

/** A page of a test server, open in Chromium. */
export interface TestPage {
  browser: Browser;
  server: TestServer;
  page: Page;
  /** Console errors and page errors so far. */
  errors: string[];
  /** Calls `globalThis[api][fn](...args)` in the page. */
  call<T>(fn: string, ...args: unknown[]): Promise<T>;
  /** Opens another page of the same browser at `url` (e.g. another origin), with the same api. */
  open(url: string): Promise<Pick<TestPage, 'page' | 'errors' | 'call'>>;
  close(): Promise<void>;
}

/** Options of {@link openTestPage}. */
export interface TestPageOptions {
  /** The global the page script puts its functions on. */
  api: string;
  /** The test server's options besides the script (routes, CSP, more scripts). */
  server?: Omit<TestServerOptions, 'script'>;
  launch?: LaunchOptions;
  /** A browser to open the page in, instead of launching one (closed by its owner). */
  browser?: Browser;
}

/** Bundles `pageModule`, serves it (and `/seal-worker.js`), and opens it in Chromium. */
export async function openTestPage(pageModule: URL, options: TestPageOptions): Promise<TestPage> {
  const bundle = await bundleForBrowser(pageModule.pathname);
  const server = await startTestServer({
    ...options.server,
    script: bundle.code,
    scripts: { ...(await bundleSealWorker()), ...options.server?.scripts },
  });
  let browser: Browser | undefined = options.browser;
  try {
    browser ??= await launchChromium(options.launch);
    const opened = async (url: string) => {
      const { page, errors } = await openReadyPage(browser!, url);
      return {
        page,
        errors,
        call: <T>(fn: string, ...args: unknown[]) => callInPage<T>(page, options.api, fn, ...args),
      };
    };
    const first = await opened(server.origin);
    const owned = options.browser === undefined;
    return {
      browser,
      server,
      ...first,
      open: opened,
      async close() {
        if (owned) await browser?.close();
        else await first.page.context().close();
        await server.close();
      },
    };
  } catch (err) {
    if (options.browser === undefined) await browser?.close();
    await server.close();
    throw err;
  }
}
