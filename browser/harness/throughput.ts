/**
 * In-browser WebCrypto throughput: runs the probes of browser/pages/throughput.ts in Debian's
 * Chromium, in interleaved rounds, and reports each one's wall-clock MB/s and its MB per CPU-second
 * of the browser's processes (the renderer does nearly all of it). Shared by the browser test (which
 * prints the figures) and the bench (which records them beside Node's, in the same run).
 * @module
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encryptStream } from '@sealstream/core';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { generated, PROBE_KEY } from '../pages/pattern.ts';
import { bundleForBrowser, bundleSealWorker } from './bundle.ts';
import { launchChromium } from './chromium.ts';
import { openReadyPage } from './page.ts';
import { startTestServer, type TestServer } from './server.ts';

/**
 * The in-page throughput of `encryptStream` with the WebCrypto backend before several chunks were
 * kept in flight (issue 11: ~110 MB/s, Chromium 156 on this project's 2-core machine): what the
 * `_vs_baseline` ratios divide by.
 */
export const BASELINE_MB_PER_SECOND = 110;

/** The probes, as named in the page. */
export type ProbeName =
  | 'subtle'
  | 'subtleStream'
  | 'workerStream'
  | 'sealer'
  | 'opener'
  | 'encrypt'
  | 'decrypt';

/** One probe to run: its page function and the arguments after the size. */
export interface Probe {
  /** A label for the figure, e.g. `browser_webcrypto_encrypt`. */
  label: string;
  fn: ProbeName;
  args?: unknown[];
  /** Reads the files the harness picks in the page's file inputs (written to disk first, for the size). */
  files?: boolean;
}

/** What a probe measured: per round, wall-clock MB/s and MB per CPU-second of the browser's processes. */
export interface ProbeSamples {
  label: string;
  mbPerSecond: number[];
  mbPerCpuSecond: number[];
}

/** Chromium with the throughput page loaded. */
export interface ThroughputPage {
  /** Runs every probe once per round, rotating the order each round, on `bytes` of data each. */
  measure(probes: Probe[], bytes: number, rounds: number): Promise<ProbeSamples[]>;
  close(): Promise<void>;
}

/** Launches Chromium on the throughput page. */
export async function openThroughputPage(): Promise<ThroughputPage> {
  const bundle = await bundleForBrowser(new URL('../pages/throughput.ts', import.meta.url).pathname);
  const worker = await bundleForBrowser(new URL('../pages/throughput-worker.ts', import.meta.url).pathname);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startTestServer({
      script: bundle.code,
      scripts: await bundleSealWorker(),
      route: (req, res) => {
        if (req.url !== '/worker.js') return false;
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(worker.code);
        return true;
      },
    });
    browser = await launchChromium();
    const { page, errors } = await openReadyPage(browser, server.origin);
    const cdp = await browser.newBrowserCDPSession();
    const files = new PickedFiles(page);
    const run = async (probe: Probe, bytes: number) => {
      if (probe.files) await files.pick(bytes);
      const cpu0 = await browserCpuSeconds(cdp);
      const ms = await callProbe(page, probe, bytes).catch((err: Error) => {
        throw new Error(`${probe.label}: ${err.message} ${errors.join('; ')}`);
      });
      const cpu = (await browserCpuSeconds(cdp)) - cpu0;
      return { mbPerSecond: bytes / 1e6 / (ms / 1e3), mbPerCpuSecond: bytes / 1e6 / cpu };
    };
    const opened = { server, browser, files };
    return {
      async measure(probes, bytes, rounds) {
        const out = probes.map((p) => ({
          label: p.label,
          mbPerSecond: [] as number[],
          mbPerCpuSecond: [] as number[],
        }));
        // one unrecorded run each: the page's code is optimized and its buffers are allocated
        for (const p of probes) await run(p, Math.min(bytes, 16 << 20));
        for (let round = 0; round < rounds; round++) {
          for (let i = 0; i < probes.length; i++) {
            const k = (i + round) % probes.length;
            const r = await run(probes[k]!, bytes);
            out[k]!.mbPerSecond.push(r.mbPerSecond);
            out[k]!.mbPerCpuSecond.push(r.mbPerCpuSecond);
          }
        }
        return out;
      },
      async close() {
        await opened.browser.close();
        await opened.server.close();
        opened.files.remove();
      },
    };
  } catch (err) {
    await browser?.close();
    await server?.close();
    throw err;
  }
}

/**
 * The files of the `files` probes: `total` bytes of the page's test source, and the same sealed
 * under its key (by Node's backend: objects are the same whichever backend seals them), written to a
 * temporary directory and picked in the page's `#plain` and `#sealed` inputs, as a user picks a file.
 * A File on disk, not a Blob in memory: with a 256 MiB Blob of the plaintext and one of the sealed
 * bytes in the page (a fresh, off-the-record context), reading the second failed with "network
 * error" (Chromium bounds the memory of its Blobs); a picked file is also what a user has.
 */
class PickedFiles {
  readonly #page: Page;
  readonly #dir = mkdtempSync(join(tmpdir(), 'sealstream-throughput-'));
  #total = -1;

  constructor(page: Page) {
    this.#page = page;
  }

  async pick(total: number): Promise<void> {
    if (this.#total === total) return;
    const plain = join(this.#dir, `plain-${total}`);
    const sealed = join(this.#dir, `sealed-${total}`);
    await pipeline(Readable.fromWeb(generated(total) as never), createWriteStream(plain));
    await generated(total)
      .pipeThrough(encryptStream({ recipients: [PROBE_KEY] }))
      .pipeTo(Writable.toWeb(createWriteStream(sealed)));
    await this.#page.setInputFiles('#plain', plain);
    await this.#page.setInputFiles('#sealed', sealed);
    // the previous size's files are no longer picked
    if (this.#total >= 0) {
      rmSync(join(this.#dir, `plain-${this.#total}`), { force: true });
      rmSync(join(this.#dir, `sealed-${this.#total}`), { force: true });
    }
    this.#total = total;
  }

  remove(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function callProbe(page: Page, probe: Probe, bytes: number): Promise<number> {
  type Probes = Record<string, (...args: unknown[]) => Promise<number>>;
  const args: unknown[] = [bytes, ...(probe.args ?? [])];
  return page.evaluate(
    ([fn, args]) => (globalThis as unknown as { throughput: Probes }).throughput[fn]!(...args),
    [probe.fn, args] as [string, unknown[]],
  );
}

/**
 * CPU seconds (user + system) used so far by every process of the browser (renderer, GPU, browser,
 * utilities), from Linux /proc. Ticks of 10 ms: runs of 64 MiB and more keep the error small.
 */
async function browserCpuSeconds(cdp: CDPSession): Promise<number> {
  const info = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { id: number }[] };
  let ticks = 0;
  for (const p of info.processInfo) {
    try {
      // fields after the command name: state is 3rd, utime the 14th and stime the 15th of the line
      const fields = readFileSync(`/proc/${p.id}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return ticks / 100;
}

/** The median of some numbers. */
export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The probes that the test and the bench both run, in this order. */
export const WEBCRYPTO_PROBES: Probe[] = [
  { label: 'browser_subtle_16k_1_in_flight', fn: 'subtle', args: [1] },
  { label: 'browser_subtle_16k_4_in_flight', fn: 'subtle', args: [4] },
  { label: 'browser_subtle_16k_16_in_flight', fn: 'subtle', args: [16] },
  { label: 'browser_subtle_16k_64_in_flight', fn: 'subtle', args: [64] },
  { label: 'browser_subtle_stream', fn: 'subtleStream' },
  { label: 'browser_subtle_stream_1_worker', fn: 'workerStream', args: [1, 4] },
  { label: 'browser_subtle_stream_2_workers', fn: 'workerStream', args: [2, 4] },
  { label: 'browser_webcrypto_sealer', fn: 'sealer' },
  { label: 'browser_webcrypto_opener', fn: 'opener' },
  { label: 'browser_webcrypto_encrypt', fn: 'encrypt' },
  { label: 'browser_webcrypto_decrypt', fn: 'decrypt' },
  // the streams with { workers: 2 }: each run starts its own two Workers and terminates them at the end
  { label: 'browser_webcrypto_encrypt_2_workers', fn: 'encrypt', args: [2] },
  { label: 'browser_webcrypto_decrypt_2_workers', fn: 'decrypt', args: [2] },
  // the same streams reading a file on disk that the page picked, with File.stream()
  { label: 'browser_webcrypto_encrypt_file', fn: 'encrypt', args: [0, 'file'], files: true },
  { label: 'browser_webcrypto_decrypt_file', fn: 'decrypt', args: [0, 'file'], files: true },
  { label: 'browser_webcrypto_encrypt_2_workers_file', fn: 'encrypt', args: [2, 'file'], files: true },
  { label: 'browser_webcrypto_decrypt_2_workers_file', fn: 'decrypt', args: [2, 'file'], files: true },
];
