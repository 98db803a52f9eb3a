// WebCrypto in Debian's Chromium: the core's streams and loops in a page, beside the raw
// crypto.subtle ceiling measured in the same rounds, and beside Node's figures of this same run.
// The probes and the Chromium harness are the browser tests' own (browser/harness/throughput.ts).

import { existsSync } from 'node:fs';
import { CHROMIUM } from '../../browser/harness/chromium.ts';
import {
  BASELINE_MB_PER_SECOND,
  openThroughputPage,
  WEBCRYPTO_PROBES,
} from '../../browser/harness/throughput.ts';
import { type Context, formatBytes } from './context.ts';
import { type FamilyResult, type Figure, figure, log, ratio } from './runner.ts';

/** Figure names: the probe's label, with `_mbps` (wall clock) or `_mbpcs` (per CPU-second) after it. */
const wallName = (label: string) => `${label}_mbps`;
const cpuName = (label: string) => `${label}_mbpcs`;

export async function runBrowser(ctx: Context): Promise<FamilyResult> {
  if (!existsSync(CHROMIUM)) {
    return {
      figures: [],
      skips: [
        {
          family: 'browser',
          what: 'browser_*',
          reason: `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`,
        },
      ],
    };
  }
  const bytes = ctx.sizes.core;
  const page = await openThroughputPage();
  let samples: Awaited<ReturnType<typeof page.measure>>;
  try {
    log(`  ${WEBCRYPTO_PROBES.length} probes, ${formatBytes(bytes)} each, ${ctx.runs} rounds`);
    samples = await page.measure(WEBCRYPTO_PROBES, bytes, ctx.runs);
  } finally {
    await page.close();
  }
  const group = 'browser';
  const note = `Chromium, ${formatBytes(bytes)} in the page; CPU: every process of the browser`;
  const figures: Figure[] = [];
  for (const s of samples) {
    figures.push(figure(wallName(s.label), 'browser', 'MB/s', s.mbPerSecond, { bytes, group, note }));
    figures.push(figure(cpuName(s.label), 'browser', 'MB/cpu-s', s.mbPerCpuSecond, { bytes, group, note }));
    log(`  ${s.label}: ${s.mbPerSecond.map((v) => v.toFixed(0)).join(', ')} MB/s`);
  }
  const byName = new Map(figures.map((f) => [f.name, f]));
  const ratios: Figure[] = [];
  for (const what of ['encrypt', 'decrypt']) {
    // '': the test source (fresh 1 MiB writes made on the page's thread); '_file': a Blob's stream()
    for (const source of ['', '_file']) {
      const pageThread = byName.get(wallName(`browser_webcrypto_${what}${source}`))!;
      const inWorkers = byName.get(wallName(`browser_webcrypto_${what}_2_workers${source}`))!;
      for (const ours of [pageThread, inWorkers]) {
        const label = ours.name.replace(/_mbps$/, '');
        ratios.push(
          figure(
            `${label}_vs_baseline`,
            'browser',
            'x',
            ours.samples.map((v) => v / BASELINE_MB_PER_SECOND),
            {
              note: `${ours.name} / ${BASELINE_MB_PER_SECOND} MB/s (encryptStream in Chromium before issue 11)`,
            },
          ),
        );
        if (source) continue;
        // the stream ceiling: the same source and sink around raw crypto.subtle calls, no format
        const ceiling = ours === pageThread ? 'browser_subtle_stream' : 'browser_subtle_stream_2_workers';
        ratios.push(ratio(`${label}_vs_subtle_stream`, 'browser', ours, byName.get(wallName(ceiling))!));
      }
      // the Workers over the page's thread, in the same rounds: wall clock, and CPU
      ratios.push(
        ratio(
          `browser_webcrypto_${what}_2_workers${source}_vs_page_thread`,
          'browser',
          inWorkers,
          pageThread,
        ),
      );
      ratios.push(
        ratio(
          `browser_webcrypto_${what}_2_workers${source}_vs_page_thread_cpu`,
          'browser',
          byName.get(cpuName(`browser_webcrypto_${what}_2_workers${source}`))!,
          byName.get(cpuName(`browser_webcrypto_${what}${source}`))!,
        ),
      );
    }
  }
  return { figures: [...figures, ...ratios], skips: [] };
}
