// The in-memory core figures are measured in a child process that holds only the core, loaded as
// users load it (the built package, no TypeScript loader). In the bench's own process two things
// cost the streams far more than anything they measure: the tsx loader the bench runs under
// (measured: encryptStream at 813-913 MB per CPU-second with `--import tsx` against 1,616-1,625
// without, alternating processes) and the libraries of the other families in the heap (V8 ran 65
// mark-compacts during two rounds of the core in this process). A user's program encrypting with
// the core has neither; the figures are the core's, not the harness's.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_DIR, type Context } from './context.ts';
import type { FamilyResult } from './runner.ts';

const execFileAsync = promisify(execFile);

const CORE_DIR = join(BENCH_DIR, '..', 'packages', 'core');
const CHILD_SOURCE = join(BENCH_DIR, 'src', 'core-child.ts');
const CHILD_BUILT = join(BENCH_DIR, 'dist', 'core-child.mjs');

/** The newest modification time of the files under `dir` (recursively), in ms. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * Why the built core cannot be measured, or undefined when it can: it must exist and be at least as
 * new as its sources (a stale build would be measured silently otherwise).
 */
export function staleCore(): string | undefined {
  const built = join(CORE_DIR, 'dist', 'index.js');
  if (!existsSync(built)) return `${built} is missing: run \`pnpm build\` first`;
  if (newest(join(CORE_DIR, 'src')) > statSync(built).mtimeMs) {
    return 'packages/core/dist is older than packages/core/src: run `pnpm build` first';
  }
  return undefined;
}

/** Runs the core family in a child process (see the module comment) and returns its result. */
export async function runCoreInChild(ctx: Context): Promise<FamilyResult> {
  const stale = staleCore();
  if (stale !== undefined) {
    return { figures: [], skips: [{ family: 'core', what: 'core_*', reason: stale, failed: true }] };
  }
  const { build } = await import('esbuild');
  await build({
    entryPoints: [CHILD_SOURCE],
    outfile: CHILD_BUILT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // the core (and everything else installed) is imported as installed: its built files
    packages: 'external',
    logLevel: 'warning',
  });
  const resultPath = join(ctx.tmp, 'core-result.json');
  const context = JSON.stringify({ ...ctx, only: [...ctx.only] });
  const child = execFileAsync(process.execPath, [CHILD_BUILT, context, resultPath], {
    cwd: BENCH_DIR,
    // not the bench's own flags (tsx, the source condition): the core as users load it
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 64 << 20,
    timeout: 60 * 60_000,
  });
  // its progress lines, as they come
  child.child.stderr?.pipe(process.stderr);
  await child;
  return JSON.parse(readFileSync(resultPath, 'utf8')) as FamilyResult;
}
