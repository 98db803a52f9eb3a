/**
 * `-o PATH` when PATH is not a plain new or regular file: a device or a FIFO is written directly
 * (a rename over `-o /dev/null` replaced the device with a regular file, as root the system's own),
 * a symbolic link is followed (the link stays), a folder is a usage error.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bin, buildCli, filesIn, run, tempDir } from './helpers.ts';

let dir: string;
let key: string;
let plain: Buffer;
const readers: ChildProcess[] = [];

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  key = join(dir, 'key');
  expect((await run(['keygen', '-q', '-o', key])).code).toBe(0);
  // above the writer thread's threshold (32 MiB): the loop that would use the thread for a file
  plain = randomBytes(33 << 20);
  writeFileSync(join(dir, 'plain'), plain);
  expect(
    (await run(['encrypt', '-q', '--key-file', key, '-o', join(dir, 'sealed'), join(dir, 'plain')])).code,
  ).toBe(0);
});

afterEach(() => {
  // a reader still blocked on a FIFO that was replaced by a regular file
  for (const r of readers.splice(0)) r.kill('SIGKILL');
});

/** A FIFO at `path` with a reader that copies what comes through it to `path.received`. */
function fifoWithReader(path: string): Promise<Buffer> {
  execFileSync('mkfifo', [path]);
  const reader = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'ignore'] });
  readers.push(reader);
  const got: Buffer[] = [];
  reader.stdout.on('data', (c: Buffer) => got.push(c));
  return new Promise((resolve) => reader.on('close', () => resolve(Buffer.concat(got))));
}

describe('-o a FIFO or a device: written directly, never replaced', () => {
  it('encrypt -o FIFO: the reader gets the sealed bytes and the FIFO stays a FIFO', {
    timeout: 60_000,
  }, async () => {
    const fifo = join(dir, 'enc.fifo');
    const received = fifoWithReader(fifo);
    const r = await run(['encrypt', '-q', '--key-file', key, '-o', fifo, join(dir, 'plain')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const sealed = await received;
    const opened = await run(['decrypt', '-q', '--key-file', key], { input: sealed });
    expect(opened.code).toBe(0);
    expect(opened.stdout.equals(plain)).toBe(true);
  });

  it('decrypt -o FIFO: the reader gets the plaintext; no temporary file beside the FIFO', {
    timeout: 60_000,
  }, async () => {
    const sub = join(dir, 'dec');
    mkdirSync(sub);
    const fifo = join(sub, 'dec.fifo');
    const received = fifoWithReader(fifo);
    const r = await run(['decrypt', '-q', '--key-file', key, '-o', fifo, join(dir, 'sealed')]);
    expect(r.code).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect((await received).equals(plain)).toBe(true);
    expect(filesIn(sub)).toEqual(['dec.fifo']);
  });

  it('a character device (a copy of /dev/null, made as root) stays a device', {
    timeout: 60_000,
  }, async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('mknod needs root: the FIFO tests above cover the same path');
    const device = join(dir, 'null');
    execFileSync('mknod', ['-m', '666', device, 'c', '1', '3']);
    for (const args of [
      ['encrypt', '--key-file', key, '-o', device, join(dir, 'plain')],
      ['decrypt', '--key-file', key, '-o', device, join(dir, 'sealed')],
    ]) {
      const r = await run(['-q', ...args]);
      expect(r.code).toBe(0);
      expect(lstatSync(device).isCharacterDevice()).toBe(true);
    }
  });

  it('-o /dev/stdout and /dev/fd/1 write to the descriptor: `>> log` appends, the log is not replaced', () => {
    const log = join(dir, 'log');
    writeFileSync(log, 'old line\n');
    const sealstream = [process.execPath, bin, 'decrypt', '-q', '--key-file', key, join(dir, 'sealed')]
      .map((a) => `'${a}'`)
      .join(' ');
    execFileSync('bash', [
      '-c',
      `${sealstream} -o /dev/stdout >> '${log}' && ${sealstream} -o /dev/fd/1 >> '${log}'`,
    ]);
    expect(readFileSync(log).equals(Buffer.concat([Buffer.from('old line\n'), plain, plain]))).toBe(true);
    expect(lstatSync('/dev/stdout').isSymbolicLink()).toBe(true);
  });

  it('keygen --force -o FIFO is refused (exit 2): a key is never sent to a device or replaces one', async () => {
    const fifo = join(dir, 'key.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await run(['keygen', '--force', '-o', fifo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a regular file');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });
});

describe('-o an existing file', () => {
  it('keeps its mode: decrypting over a 0600 file leaves the plaintext 0600, not 0644', async () => {
    const sub = join(dir, 'modes');
    mkdirSync(sub);
    const small = join(dir, 'small-for-modes');
    writeFileSync(small, 'secret');
    const sealedSmall = join(sub, 'small.ss');
    expect((await run(['encrypt', '-q', '--key-file', key, '-o', sealedSmall, small])).code).toBe(0);
    for (const mode of [0o600, 0o640]) {
      const out = join(sub, `out-${mode.toString(8)}`);
      writeFileSync(out, 'old', { mode });
      chmodSync(out, mode);
      const r = await run(['decrypt', '-q', '--key-file', key, '-o', out, sealedSmall]);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe('secret');
      expect(statSync(out).mode & 0o777).toBe(mode);
    }
    // a new file: 0666 less the umask (the test runner's, passed on to the child)
    const fresh = join(sub, 'fresh');
    expect((await run(['decrypt', '-q', '--key-file', key, '-o', fresh, sealedSmall])).code).toBe(0);
    expect(statSync(fresh).mode & 0o777).toBe(0o666 & ~process.umask());
  });
});

describe('-o a symbolic link or a folder', () => {
  it('a link to a file is followed: the file it names gets the output, the link stays', async () => {
    const sub = join(dir, 'links');
    mkdirSync(sub);
    writeFileSync(join(dir, 'target'), 'old');
    symlinkSync('../target', join(sub, 'out'));
    const r = await run(['decrypt', '-q', '--key-file', key, '-o', join(sub, 'out'), join(dir, 'sealed')]);
    expect(r.code).toBe(0);
    expect(lstatSync(join(sub, 'out')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(sub, 'out'))).toBe('../target');
    expect(readFileSync(join(dir, 'target')).equals(plain)).toBe(true);
    expect(filesIn(sub)).toEqual(['out']);
  });

  it('a folder, or a name ending in /, is a usage error (exit 2) and nothing is made', async () => {
    const sub = join(dir, 'folder');
    mkdirSync(sub);
    const small = join(dir, 'small');
    writeFileSync(small, 'hello');
    for (const output of [sub, `${sub}/`, `${join(dir, 'not-yet')}/`, `${small}/`]) {
      const r = await run(['encrypt', '--key-file', key, '-o', output, small]);
      expect(r.code, output).toBe(2);
      expect(r.stderr).toMatch(/the output must be a file/);
    }
    expect(filesIn(sub)).toEqual([]);
    expect(filesIn(dir)).not.toContain('not-yet');
    expect(readFileSync(small, 'utf8')).toBe('hello');
  });

  it('a link or a FIFO of another user is refused (exit 2): nothing is written through it', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('making a file of another user needs root (chown)');
    const sub = join(dir, 'foreign');
    mkdirSync(sub);
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched');
    // planted by another user (nobody) where the output goes, as in a shared folder like /tmp
    const link = join(sub, 'link');
    symlinkSync(victim, link);
    lchownSync(link, 65534, 65534);
    const fifo = join(sub, 'fifo');
    execFileSync('mkfifo', ['-m', '666', fifo]);
    chownSync(fifo, 65534, 65534);
    const small = join(dir, 'small-for-foreign');
    writeFileSync(small, 'hello');
    for (const output of [link, fifo]) {
      const r = await run(['encrypt', '--key-file', key, '-o', output, small]);
      expect(r.code, `${output}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('of another user (uid 65534)');
    }
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });
});
