/**
 * Every TypeScript sample of the READMEs type-checks against the packages' published declarations
 * (the built `dist/*.d.ts`, what `release:pack` ships): a renamed option, a wrong property, a name
 * used before it is defined fails here, with the README's line.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { browserCorsRule } from '@sealstream/sos/presign';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../packages/cli/test/helpers.ts';
import { checkSamples, readmeSamples } from './readme-samples.ts';

const root = resolve(import.meta.dirname, '../..');

describe('README samples', () => {
  beforeAll(() => buildCli());

  it('finds the samples', () => {
    const where = readmeSamples().map((sample) => sample.where.split(':')[0]);
    for (const readme of ['README.md', 'packages/core/README.md', 'packages/sos/README.md'])
      expect(where).toContain(readme);
  });

  it('type-check against the built packages', { timeout: 180_000 }, () => {
    const errors = checkSamples(root).map(({ where, message }) => `${where}: ${message}`);
    expect(errors).toEqual([]);
  });

  it('the CORS rule of the sos README is the one allowBrowserAccess sets', () => {
    const readme = readFileSync(join(root, 'packages/sos/README.md'), 'utf8');
    const block = /### CORS for browsers[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(JSON.parse(block ?? '')).toEqual({ CORSRules: [browserCorsRule(['https://app.example'])] });
  });
});
