// Rewrites latest.md and latest.svg from latest.json, without measuring anything: for working on the
// table or the chart.
//
//   pnpm --filter ./bench run render [results folder, default bench/results]

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from './context.ts';
import { type Results, writeResults } from './report.ts';
import type { Figure } from './runner.ts';

const dir = process.argv[2] ?? RESULTS_DIR;
const json = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as Omit<Results, 'figures'> & {
  figures: Record<string, Omit<Figure, 'name'>>;
};
const figures = Object.entries(json.figures).map(([name, f]) => ({ name, ...f }));
const written = writeResults(dir, { ...json, figures }, { json: false });
console.log(`wrote ${written.join(', ')}`);
