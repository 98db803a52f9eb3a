// A family in a process of its own: what `isolated.ts` starts, built by esbuild and run by plain
// `node`, so that the packages measured are the built ones and the process holds nothing else.
// argv: the family's name, the run's context (JSON), the file to write the family's result to (JSON).

import { writeFileSync } from 'node:fs';
import type { Context } from './context.ts';
import { runCore } from './core.ts';
import type { FamilyName, FamilyResult } from './runner.ts';
import { runS3 } from './s3.ts';

const FAMILIES: Partial<Record<FamilyName, (ctx: Context) => Promise<FamilyResult>>> = {
  core: runCore,
  s3: runS3,
};

const [family, contextJson, resultPath] = process.argv.slice(2);
const run = FAMILIES[family as FamilyName];
if (run === undefined || contextJson === undefined || resultPath === undefined) {
  process.stderr.write(
    `usage: node isolated-child.mjs <${Object.keys(FAMILIES).join('|')}> <context json> <result file>\n`,
  );
  process.exit(2);
}
const raw = JSON.parse(contextJson) as Omit<Context, 'only'> & { only: FamilyName[] };
const result = await run({ ...raw, only: new Set(raw.only) });
writeFileSync(resultPath, JSON.stringify(result));
