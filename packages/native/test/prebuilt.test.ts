/**
 * The prebuilt binary is what its sources build to. BUILD.json (written by `build:prebuilt`) records
 * the SHA-256 of every source file, of the binary, and the compiler and Node.js it was built with:
 * - the sources here must still hash to what was recorded: an edit of gcm.c or binding.gyp without a
 *   `build:prebuilt` fails here, as does a source file added or removed;
 * - the binary must hash to what was recorded (a binary swapped or damaged in the repository);
 * - with the same compiler and Node.js at hand, a build from these sources in a scratch folder must be
 *   byte for byte the binary (the build is reproducible with one toolchain): a record edited to
 *   match sources the binary was not built from fails here. With another toolchain this last check
 *   cannot compare bytes and is skipped, saying so.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'prebuilds/linux-x64-glibc');
const record = JSON.parse(readFileSync(join(dir, 'BUILD.json'), 'utf8')) as {
  binary: { file: string; sha256: string };
  sources: Record<string, string>;
  compiler: string;
  node: string;
};
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const scratch = mkdtempSync(join(tmpdir(), 'sealstream-prebuilt-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The first line of `cc --version`, or undefined without a C compiler. */
function compiler(): string | undefined {
  try {
    return execFileSync(process.env.CC || 'cc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return undefined;
  }
}

describe('prebuilds/linux-x64-glibc', () => {
  test('the sources still hash to what the binary was built from (else: pnpm --filter @sealstream/native run build:prebuilt)', () => {
    const files = ['binding.gyp', ...readdirSync(join(root, 'src')).map((f) => `src/${f}`)].sort();
    const now = Object.fromEntries(files.map((f) => [f, sha256(join(root, f))]));
    expect(now).toEqual(record.sources);
  });

  test('the binary is the one recorded', () => {
    expect(sha256(join(dir, record.binary.file))).toBe(record.binary.sha256);
  });

  const here = { compiler: compiler(), node: process.version };
  // node-gyp builds against the headers beside node (else it would download them)
  const headers = existsSync(join(process.execPath, '../../include/node/node_api.h'));
  const sameToolchain =
    process.platform === 'linux' &&
    process.arch === 'x64' &&
    headers &&
    here.compiler === record.compiler &&
    here.node === record.node;
  if (!sameToolchain) {
    console.log(
      `prebuilt.test: not rebuilding to compare bytes: built with ${record.compiler} on Node.js ${record.node}, here ${here.compiler ?? 'no C compiler'} on Node.js ${here.node} (${process.platform}-${process.arch}${headers ? '' : ', no Node.js headers beside node'})`,
    );
  }

  test.runIf(sameToolchain)(
    'a build from these sources with the same toolchain is byte for byte the binary',
    () => {
      const copy = join(scratch, 'native');
      for (const part of ['binding.gyp', 'src', 'scripts', 'index.cjs', 'elf.cjs', 'package.json'])
        cpSync(join(root, part), join(copy, part), { recursive: true });
      execFileSync(process.execPath, ['scripts/build.cjs', '--prebuild'], { cwd: copy, stdio: 'pipe' });
      const rebuilt = join(copy, 'prebuilds/linux-x64-glibc', record.binary.file);
      expect(existsSync(rebuilt)).toBe(true);
      expect(sha256(rebuilt)).toBe(record.binary.sha256);
    },
  );
});
