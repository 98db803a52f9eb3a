#!/usr/bin/env node
/**
 * Builds the `sealstream` command into dist/: its sources, @sealstream/core, @sealstream/sos and the
 * libraries they use (noble, commander) bundled by esbuild into a few ES modules.
 *
 * Why a bundle: the command starts for every file it is given, and Node's ES module loader costs per
 * module (resolve, read, compile, link). Loading the ~150 modules of `dist/` from tsc plus those of
 * core, sos and noble took ~0.1 CPU-seconds before any work, about a tenth of encrypting 1 GiB.
 *
 * What stays outside (loaded from node_modules at run time, so they stay dependencies):
 * - the AWS SDK (`@aws-sdk/*`, `@smithy/*`): large, and loaded only by the commands that reach a
 *   store. Code splitting keeps every `import()` of main.ts its own chunk, so `encrypt` never loads
 *   the SDK (nor sos);
 * - `@sealstream/native` (core requires it at run time, resolved from this package's folder: hence
 *   an optional dependency of this package too) and `cli-progress` (required only when a progress
 *   bar is drawn).
 *
 * The bundled libraries' licences are written to dist/THIRD-PARTY-LICENSES.txt. No source maps:
 * they would point at sources this package does not ship; the output is not minified, so a stack
 * trace stays readable.
 * Usage: node scripts/build.mjs
 * @module
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

const here = resolve(import.meta.dirname, '..');
const dist = join(here, 'dist');

rmSync(dist, { recursive: true, force: true });
const result = await build({
  absWorkingDir: here,
  entryPoints: ['src/bin.ts'],
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // the workspace packages from their TypeScript sources (as the tests run them), not their dist/
  conditions: ['sealstream-src'],
  external: ['@aws-sdk/*', '@smithy/*', '@sealstream/native', 'cli-progress'],
  // commander is CommonJS: its require() calls of Node's built-in modules need a `require` in scope
  banner: {
    js: "import { createRequire as __sealstreamCreateRequire } from 'node:module';\nconst require = __sealstreamCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

chmodSync(join(dist, 'bin.js'), 0o755);
writeFileSync(join(dist, 'THIRD-PARTY-LICENSES.txt'), thirdPartyNotices(Object.keys(result.metafile.inputs)));

/**
 * The name, version, licence and licence text of every package from node_modules that the bundle
 * holds code of, one after another.
 */
function thirdPartyNotices(inputs) {
  const packages = new Map();
  for (const input of inputs) {
    if (!input.includes('node_modules/')) continue;
    const root = packageRoot(resolve(here, input));
    if (root === undefined || packages.has(root)) continue;
    packages.set(root, JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
  }
  const sections = [...packages]
    .sort(([, a], [, b]) => a.name.localeCompare(b.name))
    .map(([root, manifest]) => {
      const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license'].find((f) => existsSync(join(root, f)));
      if (file === undefined)
        throw new Error(`${manifest.name}: no licence file to ship beside its bundled code`);
      const text = readFileSync(join(root, file), 'utf8').trim();
      return `${manifest.name}@${manifest.version} (${manifest.license})\n\n${text}\n`;
    });
  return `The sealstream command (dist/) bundles code of these packages, under these licences.\n\n${sections.join(`\n${'-'.repeat(72)}\n\n`)}`;
}

/** The folder of the package a file belongs to: the nearest one above it with a named package.json. */
function packageRoot(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name !== undefined) return dir;
  }
  return undefined;
}
