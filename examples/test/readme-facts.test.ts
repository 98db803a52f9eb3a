/**
 * Lists and defaults the READMEs state, compared with what the code has: a zone added or a timeout
 * changed in the sos package, or an example added, fails here until the READMEs say so.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_TIMEOUTS, SOS_ZONES } from '@sealstream/sos';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'packages/sos/README.md'), 'utf8');

describe('packages/sos/README.md', () => {
  it('lists the zones the package knows', () => {
    const line = /^Zones: (.*?); or any/ms.exec(readme)?.[1] ?? '';
    expect([...line.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1])).toEqual([...SOS_ZONES]);
  });

  it('states the default time bounds', () => {
    const seconds = { s: 1000, min: 60_000 } as const;
    const stated: Record<string, number> = {};
    for (const m of readme.matchAll(/^\| `(\w+Ms)` \| (\d+) (s|min) \|/gm)) {
      stated[m[1] ?? ''] = Number(m[2]) * seconds[m[3] as keyof typeof seconds];
    }
    expect(stated).toEqual({ ...DEFAULT_TIMEOUTS });
  });
});

describe('examples/', () => {
  const examples = readdirSync(join(root, 'examples')).filter((f) => /\.(ts|sh)$/.test(f));

  it('every example is listed in both READMEs and run by examples.test.ts', () => {
    expect(examples.length).toBeGreaterThan(0);
    const lists = ['README.md', 'examples/README.md', 'examples/test/examples.test.ts'].map((f) => [
      f,
      readFileSync(join(root, f), 'utf8'),
    ]);
    const missing = examples.flatMap((example) =>
      lists.filter(([, text]) => !text?.includes(example)).map(([f]) => `${example} in ${f}`),
    );
    expect(missing).toEqual([]);
  });
});
