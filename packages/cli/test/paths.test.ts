/**
 * Paths as users give them: names with spaces, newlines, a leading dash or non-ASCII letters, `-`
 * for stdin/stdout, an empty string from an unset variable, an output that is the input itself,
 * and a folder on a read-only file system.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bash, bin, buildCli, quote, run, sealstream, tempDir } from './helpers.ts';

let dir: string;
let key: string;
let plain: Buffer;

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  key = join(dir, 'key');
  expect((await run(['keygen', '-o', key, '-q'])).code).toBe(0);
  plain = randomBytes(100_000);
  writeFileSync(join(dir, 'plain'), plain);
});

describe('odd names round-trip', () => {
  it('spaces, a newline, a leading dash, unicode; - for stdin and stdout', async () => {
    const base = tempDir();
    for (const name of ['with space', 'new\nline', '-dash', 'é ☃ 日本']) {
      const input = join(base, `${name}.in`);
      writeFileSync(input, plain);
      const sealed = join(base, `${name}.sealed`);
      const enc = await run(['encrypt', '--key-file', key, '-o', sealed, input]);
      expect(enc.code, enc.stderr).toBe(0);
      const opened = await run(['decrypt', '--key-file', key, '-o', '-', sealed]);
      expect(opened.code, opened.stderr).toBe(0);
      expect(opened.stdout.equals(plain), name).toBe(true);
    }
    // a relative name that starts with a dash is a file after --
    const dashed = await run(['encrypt', '--key-file', key, '-o', 'out', '--', '-dash.in'], { cwd: base });
    expect(dashed.code, dashed.stderr).toBe(0);
    const piped = await run(['encrypt', '--key-file', key, '-'], { input: plain });
    expect(piped.code).toBe(0);
    expect(
      (await run(['decrypt', '--key-file', key, '-'], { input: piped.stdout })).stdout.equals(plain),
    ).toBe(true);
  });

  it('a folder on the way that cannot be: a file, a link to nothing; said in words, nothing made', async () => {
    const base = tempDir();
    writeFileSync(join(base, 'file'), 'x');
    symlinkSync(join(base, 'nowhere/dir'), join(base, 'dangling'));
    const sealed = join(dir, 'plain.sealed');
    expect((await run(['encrypt', '--key-file', key, '-o', sealed, join(dir, 'plain')])).code).toBe(0);
    for (const [out, why] of [
      ['file/x/out', 'a part of the path is not a folder'],
      ['dangling/x/out', 'dangling is a symbolic link that leads nowhere'],
      ['dangling/out', 'dangling is a symbolic link that leads nowhere'],
    ] as const) {
      const r = await run(['decrypt', '--key-file', key, '-o', join(base, out), sealed]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(why);
    }
    expect(readdirSync(base).sort()).toEqual(['dangling', 'file']);
  });

  it('an empty path (an unset variable) is a usage error, not ENOENT', async () => {
    for (const args of [
      ['encrypt', '--key-file', key, '-o', '', join(dir, 'plain')],
      ['encrypt', '--key-file', key, ''],
      ['cat', ''],
    ]) {
      const r = await run(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('is an empty string, not a path');
    }
  });
});

describe('the output is the input', () => {
  it('is refused, and the input stays as it was', async () => {
    const base = tempDir();
    const input = join(base, 'in');
    const keep = () => {
      writeFileSync(input, plain);
      return input;
    };
    symlinkSync(input, join(base, 'link'));
    keep();
    linkSync(input, join(base, 'hard'));
    for (const output of [input, join(base, 'link'), join(base, 'hard')]) {
      const r = await run(['encrypt', '--key-file', key, '-o', output, keep()]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('is the input file');
      expect(readFileSync(input).equals(plain)).toBe(true);
    }
    // appended through the shell: cat grew the file until the disk was full
    for (const script of [
      `${sealstream(['cat', input])} >> ${quote(input)}`,
      `${sealstream(['encrypt', '--key-file', key, input])} >> ${quote(input)}`,
      `${sealstream(['encrypt', '--key-file', key])} < ${quote(input)} >> ${quote(input)}`,
      `${sealstream(['encrypt', '--key-file', key, '-o', '/dev/stdout', input])} >> ${quote(input)}`,
      `${sealstream(['cp', input, input])}`,
    ]) {
      keep();
      const r = bash(`ulimit -f 10000; ${script}`);
      expect(r.code, `${script}: ${r.stderr}`).toBe(2);
      expect(readFileSync(input).equals(plain), script).toBe(true);
    }
    const sealed = join(base, 'sealed');
    expect((await run(['encrypt', '--key-file', key, '-o', sealed, keep()])).code).toBe(0);
    const before = readFileSync(sealed);
    const r = await run(['decrypt', '--key-file', key, '-o', sealed, sealed]);
    expect(r.code).toBe(2);
    expect(readFileSync(sealed).equals(before)).toBe(true);
    // a copy is another file: fine
    copyFileSync(input, join(base, 'copy'));
    expect((await run(['encrypt', '--key-file', key, '-o', join(base, 'copy'), input])).code).toBe(0);
  });
});

describe('a read-only file system', () => {
  it('an output in it, or in a folder to be made in it: exit 1 saying so, nothing left', () => {
    const mount = tempDir();
    const sealed = join(dir, 'sealed-ro');
    execFileSync(
      process.execPath,
      [bin, 'encrypt', '-q', '--key-file', key, '-o', sealed, join(dir, 'plain')],
      {
        stdio: 'pipe',
      },
    );
    const script = `mount -t tmpfs -o size=1m,ro tmpfs ${quote(mount)} || exit 99
for out in ${quote(join(mount, 'out'))} ${quote(join(mount, 'new/deeper/out'))}; do
  ${sealstream(['decrypt', '--key-file', key, sealed])} -o "$out" 2>&1; echo "rc=$?"
done`;
    const output = execFileSync('unshare', ['--user', '--map-root-user', '--mount', 'bash', '-c', script], {
      encoding: 'utf8',
    });
    expect(output).toContain(`the folder ${mount} cannot be written in: the file system is read-only\nrc=1`);
    // Node's recursive mkdir said "no such file" here
    expect(output).toContain(
      `the folder ${join(mount, 'new/deeper')} cannot be made: the file system is read-only\nrc=1`,
    );
    expect(readdirSync(mount)).toEqual([]);
  });
});

describe('numbers in flags', () => {
  it('only decimal integers: 0x10, 1e1, 4.0 and " 8" are refused, not read as 16, 10, 4, 8', async () => {
    for (const [flag, value] of [
      ['--parallel', '0x10'],
      ['--parallel', '1e1'],
      ['--parallel', '4.0'],
      ['--parallel', ' 8'],
      ['--parallel', '1000000000'],
    ]) {
      const r = await run(['cp', '-r', flag!, value!, tempDir(), tempDir()]);
      expect(r.code, `${flag} ${value}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('expected an integer from 1 to 64');
    }
    for (const value of ['0x10', '1e1', '16.0']) {
      const r = await run(['decrypt', '--key-file', key, '--max-work-factor', value], { input: '' });
      expect(r.code, `${value}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('expected an integer from 10 to 22');
    }
    const ok = await run(['cp', '-r', '--parallel', '64', tempDir(), tempDir()]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});
