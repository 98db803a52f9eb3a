// Writes the results: latest.json (every figure by name, with its runs, and the machine), latest.md
// (a table) and latest.svg (a chart, see svg.ts).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes, type Sizes } from './context.ts';
import type { Machine } from './machine.ts';
import { FAMILIES, type FamilyName, type Figure, fmt, type Skip } from './runner.ts';
import { renderSvg } from './svg.ts';

export interface Results {
  date: string;
  mode: 'full' | 'quick';
  /** Runs per figure, by family. */
  runs: Partial<Record<FamilyName, number>>;
  durationSeconds: number;
  machine: Machine;
  sizes: Sizes;
  figures: Figure[];
  skipped: Skip[];
}

export function toJson(results: Results): string {
  const figures = Object.fromEntries(
    results.figures.map((f) => [
      f.name,
      {
        family: f.family,
        unit: f.unit,
        median: round(f.median),
        min: round(f.min),
        max: round(f.max),
        runs: f.samples.length,
        samples: f.samples.map(round),
        ...(f.bytes === undefined ? {} : { bytes: f.bytes }),
        ...(f.note === undefined ? {} : { note: f.note }),
      },
    ]),
  );
  const { figures: _, ...rest } = results;
  return `${JSON.stringify({ schema: 1, ...rest, figures }, null, 2)}\n`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** CPU, cores, memory and OS: the hardware a figure was measured on. */
export function hardwareLine(m: Machine): string {
  const flags = m.cpuFlags.length > 0 ? ` (${m.cpuFlags.join(', ')})` : '';
  return `${m.cpu}${flags}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}`;
}

export function softwareLine(m: Machine): string {
  const cli = m.opensslCli?.split(' ').slice(0, 2).join(' ') ?? 'no openssl command';
  return `Node ${m.node} (OpenSSL ${m.nodeOpenssl}); ${cli} command${m.ageCli ? `; age ${m.ageCli}` : ''}`;
}

export function toMarkdown(results: Results): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(`# sealstream bench: ${results.date}${results.mode === 'quick' ? ' (--quick)' : ''}`);
  out.push('');
  out.push(`Machine: ${hardwareLine(m)}; ${softwareLine(m)}.`);
  const versions = Object.entries(m.packages)
    .filter(([, v]) => v !== null)
    .map(([name, v]) => `${name} ${v}`);
  if (m.ageCli !== null) versions.push(`age ${m.ageCli}`);
  out.push('');
  out.push(`Versions: ${versions.join(', ')}.`);
  out.push('');
  out.push(
    'Median over repeated runs (the runs column), min-max beside it, all in one process run of ' +
      `${Math.round(results.durationSeconds)} s; figures compared by a ratio ran in the same rounds. ` +
      'MB/s is 10^6 bytes of plaintext per second; ' +
      '`x` is a ratio, sealstream over the other.',
  );
  out.push('');
  out.push('| figure | median | min - max | unit | size | runs |');
  out.push('| --- | ---: | ---: | --- | ---: | ---: |');
  for (const family of FAMILIES) {
    for (const f of results.figures.filter((f) => f.family === family)) {
      const size = f.bytes === undefined ? '' : formatBytes(f.bytes);
      out.push(
        `| \`${f.name}\` | ${fmt(f.median, f.unit)} | ${fmt(f.min, f.unit)} - ${fmt(f.max, f.unit)} | ` +
          `${f.unit} | ${size} | ${f.samples.length} |`,
      );
    }
  }
  if (results.skipped.length > 0) {
    out.push('');
    out.push('Not measured:');
    out.push('');
    for (const s of results.skipped) out.push(`- ${s.family}: \`${s.what}\`: ${s.reason}`);
  }
  out.push('');
  return out.join('\n');
}

/** Writes latest.json (unless `json` is false), latest.md and latest.svg into `dir`. */
export function writeResults(dir: string, results: Results, { json = true } = {}): string[] {
  const files: Array<[string, string]> = [
    ['latest.md', toMarkdown(results)],
    ['latest.svg', renderSvg(results)],
  ];
  if (json) files.unshift(['latest.json', toJson(results)]);
  return files.map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}
