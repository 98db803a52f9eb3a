/**
 * `pnpm demo`, the README's main job, run as the README runs it (smaller), against the local S3 server:
 * it must succeed, and every check it reports must say the bytes are identical.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { storeEnv } from '../../packages/cli/test/helpers.ts';

const root = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);

describe('pnpm demo', () => {
  it('encrypts, uploads, reads a range across a chunk boundary and downloads, all identical', async () => {
    const { stdout } = await exec(
      process.execPath,
      ['--conditions=sealstream-src', '--import', 'tsx', join(root, 'scripts/demo.ts'), '--size', '3MiB'],
      { cwd: root, env: storeEnv(), timeout: 120_000 },
    );
    expect(stdout).toContain('identical after the round trip');
    // one client-side object and one SSE-C object, each with a ranged read and a whole download
    const ranges = stdout.match(/^ {4}range .*$/gm) ?? [];
    expect(ranges).toHaveLength(2);
    for (const line of ranges) expect(line).toMatch(/: 4096 bytes in .* identical to the file$/);
    expect(stdout.match(/^ {4}download .* sha256 identical$/gm) ?? []).toHaveLength(2);
    expect(stdout).not.toContain('DIFFERENT');
  });

  it('an empty file: every step but the ranged read, which has no byte to ask for', async () => {
    const { stdout } = await exec(
      process.execPath,
      ['--conditions=sealstream-src', '--import', 'tsx', join(root, 'scripts/demo.ts'), '--size', '0'],
      { cwd: root, env: storeEnv(), timeout: 120_000 },
    );
    expect(stdout).toContain('identical after the round trip');
    expect(stdout.match(/^ {4}range {7}none: the object is empty$/gm) ?? []).toHaveLength(2);
    expect(stdout.match(/^ {4}download .* sha256 identical$/gm) ?? []).toHaveLength(2);
  });
});
