/** Runs every example as the README says, against the local S3 server. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, buildCli, storeEnv } from '../../packages/cli/test/helpers.ts';

const root = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);

function runExample(name: string) {
  return exec(
    process.execPath,
    ['--conditions=sealstream-src', '--import', 'tsx', join(root, 'examples', name)],
    {
      cwd: root,
      env: storeEnv(),
      timeout: 60_000,
    },
  );
}

describe('examples', () => {
  beforeAll(() => buildCli());

  it('file-roundtrip.ts', async () => {
    expect((await runExample('file-roundtrip.ts')).stdout).toMatch(/encrypted and decrypted, identical/);
  });

  it('file-roundtrip.ts with a file that is not there fails and leaves no copy behind', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'sealstream-examples-test-'));
    try {
      const run = exec(
        process.execPath,
        [
          '--conditions=sealstream-src',
          '--import',
          'tsx',
          join(root, 'examples/file-roundtrip.ts'),
          join(tmp, 'missing'),
        ],
        { cwd: root, env: { ...process.env, TMPDIR: tmp }, timeout: 60_000 },
      );
      await expect(run).rejects.toMatchObject({ code: 1 });
      expect(readdirSync(tmp).filter((name) => name.startsWith('sealstream-example-'))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('upload-range.ts', async () => {
    expect((await runExample('upload-range.ts')).stdout).toMatch(/range: 100 bytes, \d+ fetched, identical/);
  });

  it('sse-c.ts', async () => {
    const { stdout } = await runExample('sse-c.ts');
    expect(stdout).toContain('readable only with my key (SSE-C AES256');
    expect(stdout).toContain('without the key: SSE_C_KEY_REQUIRED');
  });

  it('rotate-key.ts', async () => {
    expect((await runExample('rotate-key.ts')).stdout).toMatch(/the old key now: NO_MATCHING_KEY/);
  });

  it('archive.sh', async () => {
    const { stdout } = await exec(
      'bash',
      [join(root, 'examples/archive.sh'), join(root, 'packages/core/src')],
      {
        env: storeEnv({ SEALSTREAM: `${process.execPath} ${bin}` }),
        timeout: 60_000,
      },
    );
    expect(stdout).toContain('passphrase (scrypt logN 18)');
    expect(stdout).toContain('restored identically');
  });

  // As the README runs it: no folder, so the examples' own, whose node_modules holds pnpm's
  // symbolic links (tar keeps them as links; diff must compare them as links, not follow them).
  it('archive.sh with its default folder', async () => {
    const { stdout } = await exec('bash', [join(root, 'examples/archive.sh')], {
      env: storeEnv({ SEALSTREAM: `${process.execPath} ${bin}` }),
      timeout: 60_000,
    });
    expect(stdout).toContain('restored identically');
  });
});
