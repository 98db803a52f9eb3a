// Memory: the peak RSS of encrypting and decrypting a generated stream, measured in a child process
// that reads its own high-water mark. It must not grow with the size of the stream, so the same is
// measured on a stream 16 times smaller, and on a pass-through without encryption (Node's own floor).

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_DIR, type Context, formatBytes } from './context.ts';
import { loadCore } from './core-api.ts';
import { type FamilyResult, figure, log } from './runner.ts';

const execFileAsync = promisify(execFile);
const CHILD = join(BENCH_DIR, 'src', 'memory-child.ts');

async function peakRss(bytes: number, mode: 'sealstream' | 'passthrough'): Promise<number> {
  const args = ['--conditions=sealstream-src', '--import', 'tsx', CHILD, String(bytes), mode];
  const { stdout } = await execFileAsync(process.execPath, args, { cwd: BENCH_DIR, timeout: 30 * 60_000 });
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { maxRssMiB: number };
  return report.maxRssMiB;
}

export async function runMemory(ctx: Context): Promise<FamilyResult> {
  const loaded = await loadCore();
  if (!loaded.ok) {
    return { figures: [], skips: [{ family: 'memory', what: 'peak_rss_mib_*', reason: loaded.reason }] };
  }
  const big = ctx.sizes.memoryStream;
  const small = big / 16;
  const runs: Array<[string, number, 'sealstream' | 'passthrough', string]> = [
    ['peak_rss_mib_4gib_stream', big, 'sealstream', `encrypt + decrypt of a ${formatBytes(big)} stream`],
    ['peak_rss_mib_small_stream', small, 'sealstream', `encrypt + decrypt of a ${formatBytes(small)} stream`],
    ['peak_rss_mib_passthrough', big, 'passthrough', `the same ${formatBytes(big)} stream, no encryption`],
  ];
  const samples = new Map<string, number[]>(runs.map(([name]) => [name, []]));
  for (let run = 0; run < ctx.memoryRuns; run++) {
    for (const [name, bytes, mode] of runs) {
      const mib = await peakRss(bytes, mode);
      samples.get(name)!.push(mib);
      log(`  run ${run + 1}/${ctx.memoryRuns}: ${name} ${mib.toFixed(1)} MiB (${formatBytes(bytes)})`);
    }
  }
  const figures = runs.map(([name, bytes, , note]) =>
    figure(name, 'memory', 'MiB', samples.get(name)!, {
      bytes,
      note: `peak RSS of a child process: ${note}`,
    }),
  );
  const [bigRss, smallRss] = figures.map((f) => f.median) as [number, number];
  if (bigRss > smallRss + 64) {
    log(
      `  warning: peak RSS grew from ${smallRss.toFixed(0)} to ${bigRss.toFixed(0)} MiB with 16x the stream`,
    );
  }
  return { figures, skips: [] };
}
