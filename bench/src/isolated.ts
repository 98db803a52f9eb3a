// The families that measure the packages in this process's place (the in-memory core, the S3
// transfers) run in a child process that holds only what they measure, loaded as users load it: the
// built packages, no TypeScript loader. In the bench's own process two things cost the streams more
// than anything they measure: the tsx loader the bench runs under (measured: encryptStream at
// 813-913 MB per CPU-second with `--import tsx` against 1,616-1,625 without, alternating processes)
// and the libraries of the other families in the heap (V8 ran 65 mark-compacts during two rounds of
// the core in this process). A user's program has neither; the figures are the packages', not the
// harness's.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_DIR, type Context } from './context.ts';
import type { FamilyResult } from './runner.ts';

const execFileAsync = promisify(execFile);

const PACKAGES_DIR = join(BENCH_DIR, '..', 'packages');
const CHILD_SOURCE = join(BENCH_DIR, 'src', 'isolated-child.ts');
const CHILD_BUILT = join(BENCH_DIR, 'dist', 'isolated-child.mjs');

/** The packages each isolated family loads, built. */
const MEASURED: Record<'core' | 's3', string[]> = { core: ['core'], s3: ['core', 'sos'] };

/** The newest modification time of the files under `dir` (recursively), in ms. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * Why a package cannot be measured built, or undefined when it can: its build must exist and be at
 * least as new as its sources (a stale build would otherwise be measured without a word).
 */
export function unbuilt(name: string): string | undefined {
  const dir = join(PACKAGES_DIR, name);
  const built = join(dir, 'dist', 'index.js');
  if (!existsSync(built)) return `packages/${name}/dist is missing: run \`pnpm build\` first`;
  if (newest(join(dir, 'src')) > statSync(built).mtimeMs) {
    return `packages/${name}/dist is older than packages/${name}/src: run \`pnpm build\` first`;
  }
  return undefined;
}

let bundled: Promise<unknown> | undefined;

/** Runs a family in a child process (see the module comment) and returns its result. */
export async function runIsolated(family: 'core' | 's3', ctx: Context): Promise<FamilyResult> {
  const reason = MEASURED[family].map(unbuilt).find((r) => r !== undefined);
  if (reason !== undefined) {
    return { figures: [], skips: [{ family, what: `${family} figures`, reason, failed: true }] };
  }
  bundled ??= import('esbuild').then(({ build }) =>
    build({
      entryPoints: [CHILD_SOURCE],
      outfile: CHILD_BUILT,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // the packages (ours and the others) are imported as installed: their built files
      packages: 'external',
      logLevel: 'warning',
    }),
  );
  await bundled;
  const resultPath = join(ctx.tmp, `${family}-result.json`);
  const context = JSON.stringify({ ...ctx, only: [...ctx.only] });
  const child = execFileAsync(process.execPath, [CHILD_BUILT, family, context, resultPath], {
    cwd: BENCH_DIR,
    // not the bench's own flags (tsx, the source condition): the packages as users load them
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 64 << 20,
    timeout: 90 * 60_000,
  });
  // its progress lines, as they come
  child.child.stderr?.pipe(process.stderr);
  await child;
  return JSON.parse(readFileSync(resultPath, 'utf8')) as FamilyResult;
}
