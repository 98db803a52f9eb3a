/**
 * `pnpm demo`, the README's main job, run as the README runs it (smaller), against the local S3 server:
 * it must succeed, and every check it reports must say the bytes are identical.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  it('Ctrl-C (SIGINT) removes the generated files and exits 130', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'sealstream-demo-test-'));
    try {
      const child = spawn(
        process.execPath,
        [
          '--conditions=sealstream-src',
          '--import',
          'tsx',
          join(root, 'scripts/demo.ts'),
          '--size',
          '1GiB',
          '--local-only',
        ],
        { cwd: root, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
      // interrupted while it writes the plaintext file, as soon as it says it has begun
      await new Promise<void>((started) => {
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d;
          if (stdout.includes('1. local files')) started();
        });
        child.on('close', () => started()); // ended before it began: the expectations below say how
      });
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toContain('demo interrupted (SIGINT): removed');
      expect(readdirSync(tmp).filter((name) => name.startsWith('sealstream-demo-'))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
