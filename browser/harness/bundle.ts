/**
 * Bundles code under test for the browser with esbuild: platform `browser`, workspace packages
 * resolved to their TypeScript sources (`sealstream-src`), and a check that no Node built-in made
 * it into the bundle.
 * @module
 */
import { builtinModules } from 'node:module';
import { build } from 'esbuild';
import { browserBuildOptions } from '../../scripts/browser-bundle.ts';

/** A bundle: its code and the size of each input, for reports. */
export interface Bundle {
  code: string;
  bytes: number;
  inputs: string[];
}

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/**
 * Bundles `entry` (an ES module) for the browser. Throws when any Node built-in is imported,
 * naming who imports it: a browser bundle must not depend on one.
 */
export async function bundleForBrowser(entry: string, options: { minify?: boolean } = {}): Promise<Bundle> {
  const imported: string[] = [];
  const result = await build({
    ...browserBuildOptions(entry, options.minify ?? false),
    metafile: true,
    plugins: [
      {
        name: 'no-node-builtins',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (NODE_BUILTINS.has(args.path)) {
              imported.push(`${args.path} (imported by ${args.importer})`);
              return { path: args.path, external: true };
            }
            return undefined;
          });
        },
      },
    ],
  });
  if (imported.length > 0) {
    throw new Error(`the browser bundle of ${entry} imports Node built-ins: ${imported.join('; ')}`);
  }
  const code = result.outputFiles[0]!.text;
  return { code, bytes: result.outputFiles[0]!.contents.length, inputs: Object.keys(result.metafile.inputs) };
}

/**
 * Core's sealing Worker (packages/core/src/worker/seal-worker.ts) bundled on its own, as a page
 * serves it beside its bundle at `/seal-worker.js` (where `encryptStream({ workers })` starts it
 * from): esbuild does not follow `new Worker(new URL(...))`, so the test pages do what a site that
 * bundles with esbuild does.
 */
export async function bundleSealWorker(): Promise<Record<string, string>> {
  const worker = await bundleForBrowser(
    new URL('../../packages/core/src/worker/seal-worker.ts', import.meta.url).pathname,
  );
  return { '/seal-worker.js': worker.code };
}
