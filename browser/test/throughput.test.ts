/**
 * In-page WebCrypto throughput in Chromium, from the raw crypto.subtle ceiling to the streams,
 * printed (never asserted: timing belongs to the bench, which records the same figures beside
 * Node's). Wall-clock MB/s and MB per CPU-second of the browser's processes: on a shared machine
 * the second is the steadier one.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  BASELINE_MB_PER_SECOND,
  medianOf,
  openThroughputPage,
  type ThroughputPage,
  WEBCRYPTO_PROBES,
} from '../harness/throughput.ts';

let page: ThroughputPage;

beforeAll(async () => {
  page = await openThroughputPage();
});

afterAll(async () => {
  await page?.close();
});

test('in-page WebCrypto throughput (reported, not asserted)', async () => {
  const samples = await page.measure(WEBCRYPTO_PROBES, 64 * 1024 * 1024, 3);
  const lines = samples.map((s) => {
    const wall = medianOf(s.mbPerSecond);
    const cpu = medianOf(s.mbPerCpuSecond);
    return `${s.label.padEnd(42)} ${wall.toFixed(0).padStart(5)} MB/s  ${cpu.toFixed(0).padStart(5)} MB/cpu-s`;
  });
  const wall = (label: string) => medianOf(samples.find((s) => s.label === label)!.mbPerSecond);
  for (const where of ['', '_2_workers', '_file', '_2_workers_file']) {
    const encrypt = wall(`browser_webcrypto_encrypt${where}`);
    const decrypt = wall(`browser_webcrypto_decrypt${where}`);
    const how = `${where.includes('workers') ? ' with { workers: 2 }' : ''}${where.endsWith('file') ? ' from a picked file' : ''}`;
    lines.push(
      `encryptStream${how} / ${BASELINE_MB_PER_SECOND} MB/s baseline: ${(encrypt / BASELINE_MB_PER_SECOND).toFixed(2)}x, decryptStream: ${(decrypt / BASELINE_MB_PER_SECOND).toFixed(2)}x`,
    );
  }
  console.log(`Chromium WebCrypto throughput, 64 MiB per run, median of 3 rounds:\n  ${lines.join('\n  ')}`);
  // every probe ran and measured something (the figures themselves are not a pass criterion)
  for (const s of samples) expect(s.mbPerSecond.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
}, 300_000);
