import { medianOf, openThroughputPage, WEBCRYPTO_PROBES } from './harness/throughput.ts';

const probes = WEBCRYPTO_PROBES.filter(
  (p) => /webcrypto_(en|de)crypt/.test(p.label) || p.label === 'browser_subtle_stream_2_workers',
);
const page = await openThroughputPage();
try {
  const s = await page.measure(probes, Number(process.argv[2] ?? 64) << 20, Number(process.argv[3] ?? 3));
  for (const x of s)
    console.log(
      x.label.padEnd(40),
      medianOf(x.mbPerSecond).toFixed(0),
      'MB/s',
      medianOf(x.mbPerCpuSecond).toFixed(0),
      'MB/cpu-s',
      x.mbPerSecond.map((v) => v.toFixed(0)).join(','),
    );
} finally {
  await page.close();
}
