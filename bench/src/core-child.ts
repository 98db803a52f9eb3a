// The core family in a process of its own: what `core-process.ts` starts, built by esbuild and run
// by plain `node`, so that the core is the built package and the process holds nothing else.
// Reads the run's context from argv[2] (JSON), writes the family's result (JSON) to argv[3].

import { writeFileSync } from 'node:fs';
import type { Context } from './context.ts';
import { runCore } from './core.ts';
import type { FamilyName } from './runner.ts';

const [contextJson, resultPath] = process.argv.slice(2);
if (contextJson === undefined || resultPath === undefined) {
  process.stderr.write('usage: node core-child.mjs <context json> <result file>\n');
  process.exit(2);
}
const raw = JSON.parse(contextJson) as Omit<Context, 'only'> & { only: FamilyName[] };
const result = await runCore({ ...raw, only: new Set(raw.only) });
writeFileSync(resultPath, JSON.stringify(result));
