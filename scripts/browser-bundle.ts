/** How the project bundles code for a browser: one set of esbuild options for the tests and the web example. */
import type { BuildOptions } from 'esbuild';

/**
 * esbuild options for an ES module bundle of `entry` for the browser, with workspace packages
 * resolved to their TypeScript sources (`sealstream-src`), kept in memory (`write: false`).
 */
export function browserBuildOptions(entry: string, minify = false): BuildOptions & { write: false } {
  return {
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['sealstream-src'],
    minify,
    logLevel: 'silent',
  };
}
