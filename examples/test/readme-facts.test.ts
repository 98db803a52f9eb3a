/**
 * Lists and defaults the sos README states, read from the README and compared with the package's
 * own constants: a zone added or a timeout changed in the code fails here until the README says so.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_TIMEOUTS, SOS_ZONES } from '@sealstream/sos';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(join(resolve(import.meta.dirname, '../..'), 'packages/sos/README.md'), 'utf8');

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
