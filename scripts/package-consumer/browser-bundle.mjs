// A browser user of the installed packages: each browser entry bundled by esbuild for platform
// `browser` from this project's node_modules (the published `exports` and their `browser` condition,
// not the workspace sources). A Node built-in reached from any of them fails the build. Prints each
// bundle's size and checks the sizes the READMEs state against them.
// Usage (from the consumer project): node browser-bundle.mjs <repository root>
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const repo = process.argv[2];
assert.ok(repo, 'usage: node browser-bundle.mjs <repository root>');
const { build } = createRequire(join(repo, 'package.json'))('esbuild');

/** Each browser entry: what a page imports, and the file of ours that must be in its bundle. */
const ENTRIES = {
  core: { source: "export * from '@sealstream/core';", has: 'core/dist/index.js' },
  presigned: { source: "export * from '@sealstream/sos/presigned';", has: 'sos/dist/presigned/index.js' },
  sos: { source: "export * from '@sealstream/sos';", has: 'sos/dist/index.browser.js' },
  'seal-worker': { source: "import '@sealstream/core/seal-worker';", has: 'core/dist/worker/seal-worker.js' },
};

const KiB = 1024;
const sizes = {};
for (const [name, entry] of Object.entries(ENTRIES)) {
  const result = await build({
    stdin: { contents: entry.source, resolveDir: process.cwd(), sourcefile: `${name}.mjs` },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    metafile: true,
    logLevel: 'silent',
  }).catch((err) => {
    throw new Error(`${name}: the installed packages do not bundle for the browser:\n${err.message}`);
  });
  const inputs = Object.keys(result.metafile.inputs).filter((i) => i.includes('@sealstream/'));
  const outside = inputs.filter((i) => !/^node_modules\/@sealstream\/[a-z]+\/dist\//.test(i));
  assert.deepEqual(outside, [], `${name}: bundled from outside the installed packages' dist/`);
  assert.ok(
    inputs.includes(`node_modules/@sealstream/${entry.has}`),
    `${name}: ${entry.has} is not in the bundle`,
  );
  assert.ok(!inputs.some((i) => i.includes('@sealstream/native')), `${name}: the native addon was bundled`);
  const code = result.outputFiles[0].contents;
  sizes[name] = { minified: code.length / KiB, gzip: gzipSync(code).length / KiB };
  console.log(
    `${name}: ${sizes[name].minified.toFixed(1)} KiB minified, ${sizes[name].gzip.toFixed(1)} KiB gzip`,
  );
}

/**
 * Where the READMEs state bundle sizes (minified, then gzip, in KiB): each pattern must still be
 * found, and each figure must be within 2% (at least 2 KiB) of what was measured here.
 */
const STATED = [
  ['README.md', 'core', /the core bundles to\s+(\d+) KiB minified \((\d+) KiB gzip\)/],
  [
    'README.md',
    'presigned',
    /`@sealstream\/sos\/presigned` with what it uses of it to (\d+) KiB \((\d+) KiB gzip\)/,
  ],
  ['README.md', 'sos', /no Node built-in; (\d+) KiB\s+minified, (\d+) KiB gzip, with the core and the SDK/],
  [
    'packages/sos/README.md',
    'sos',
    /with the core and the SDK's S3 client it is (\d+) KiB \((\d+) KiB gzip\)/,
  ],
  ['packages/sos/README.md', 'presigned', /no `process`; (\d+) KiB minified with the core/],
];
const wrong = [];
for (const [file, name, pattern] of STATED) {
  const match = readFileSync(join(repo, file), 'utf8').match(pattern);
  if (!match) {
    wrong.push(`${file} no longer states the ${name} bundle's size as ${pattern} (update this check)`);
    continue;
  }
  for (const [i, kind] of [
    [1, 'minified'],
    [2, 'gzip'],
  ]) {
    if (match[i] === undefined) continue; // this one states the minified size only
    const stated = Number(match[i]);
    const measured = sizes[name][kind];
    if (Math.abs(stated - measured) > Math.max(2, 0.02 * measured))
      wrong.push(
        `${file} says the ${name} bundle is ${stated} KiB ${kind}; it is ${measured.toFixed(1)} KiB`,
      );
  }
}
assert.deepEqual(wrong, [], 'the READMEs state bundle sizes that are not right');
console.log('browser bundles of the installed packages: ok');
