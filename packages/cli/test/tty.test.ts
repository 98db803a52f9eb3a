/** The progress bar and the passphrase prompt, under a pseudo-terminal (util-linux `script`). */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { bin, buildCli, quote, run, runOnTty, storeEnv, tempDir } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let dir: string;
let key: string;

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  dir = tempDir();
  key = join(dir, 'key');
  await run(['keygen', '-o', key, '-q']);
  writeFileSync(join(dir, 'big'), randomBytes(48 * 1024 * 1024));
});

afterAll(async () => {
  await cleanup?.();
  client?.destroy();
});

describe('progress', () => {
  it('shows a bar with bytes, rate and ETA on a terminal', async () => {
    const r = await runOnTty(['cp', '--key-file', key, join(dir, 'big'), `s3://${bucket}/big`]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/cp \[[#-]{24}\] \d+% \| [\d.]+ \w+ \/ 48\.0 MiB \| /);
    expect(r.output).toContain('ETA');
    const down = await runOnTty(['cp', '--key-file', key, `s3://${bucket}/big`, join(dir, 'big.down')]);
    expect(down.output).toMatch(/\d+% \|/);
  });

  it('stays quiet with --quiet, and when stderr is not a terminal', async () => {
    const quiet = await runOnTty(['cp', '-q', '--key-file', key, join(dir, 'big'), `s3://${bucket}/big2`]);
    expect(quiet.code).toBe(0);
    expect(quiet.output).not.toContain('ETA');
    expect(quiet.output).not.toContain('copied');
    const piped = await run(['cp', '--key-file', key, join(dir, 'big'), `s3://${bucket}/big3`]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toContain('ETA');
    expect(piped.stderr).toMatch(/^copied .* -> s3:\/\//);
  });
});

describe('passphrase prompt', () => {
  it('reads the passphrase from the terminal, twice to encrypt, without echo', async () => {
    writeFileSync(join(dir, 'small'), 'attack at dawn');
    const typed = new Set<string>();
    const r = await runOnTty(
      ['encrypt', '--passphrase', '--work-factor', '10', '-o', join(dir, 'small.ss'), join(dir, 'small')],
      (out, write) => {
        for (const prompt of ['new passphrase: ', 'repeat the passphrase: ']) {
          if (out.includes(prompt) && !typed.has(prompt)) {
            typed.add(prompt);
            write('hunter2 but longer\r');
          }
        }
      },
    );
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain('hunter2');
    writeFileSync(join(dir, 'pass'), 'hunter2 but longer\n');
    const back = await run(['decrypt', '--passphrase-file', join(dir, 'pass'), join(dir, 'small.ss')]);
    expect(back.stdout.toString()).toBe(readFileSync(join(dir, 'small'), 'utf8'));
  });

  it('a key on the command line is out of the process list while the prompt waits', async () => {
    const key = readFileSync(join(dir, 'key'), 'utf8').trim();
    // `exec`: the shell that script(1) starts must not linger with the key in its own argv;
    // only our process is under test here
    const command = `exec ${[
      process.execPath,
      bin,
      'cat',
      '--passphrase',
      '--sse-c',
      key,
      `s3://${bucket}/none`,
    ]
      .map(quote)
      .join(' ')}`;
    const child = spawn('script', ['-qefc', command, '/dev/null'], {
      env: { ...storeEnv(), TERM: 'xterm' },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const closed = new Promise((r) => child.on('close', r));
    const deadline = Date.now() + 30_000;
    while (!output.includes('passphrase: ') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(output).toContain('passphrase: ');
    // every process under script (node, once the shell has exec'd it)
    const lines: string[] = [];
    const walk = (pid: number) => {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
        for (const c of children.split(/\s+/).filter(Boolean)) walk(Number(c));
      }
    };
    walk(child.pid!);
    child.stdin.write('\u0003'); // Ctrl-C at the prompt
    await closed;
    expect(lines.some((l) => l.replace(/\0+$/, '') === 'sealstream')).toBe(true);
    for (const l of lines.slice(1)) expect(l).not.toContain(key.slice(0, 16));
  });

  it('encrypt refuses ciphertext to a terminal also through -o /dev/stdout, /dev/fd/1 or /dev/tty', async () => {
    const small = join(dir, 'small-for-tty');
    writeFileSync(small, 'hello');
    for (const output of ['/dev/stdout', '/dev/fd/1', '/dev/tty']) {
      const r = await runOnTty(['encrypt', '--key-file', key, '-o', output, small]);
      expect(r.code, `${output}: ${r.output}`).toBe(2);
      expect(r.output).toContain('refusing to write encrypted data to a terminal');
      expect(r.output).not.toContain('sealstream\u0001');
    }
  });

  it('without a terminal, --passphrase is a usage error', async () => {
    const r = await run(['decrypt', '--passphrase'], { input: 'x', env: { ...storeEnv() } });
    // a test runner may still have a controlling terminal; then this cannot be checked here
    if (r.stderr.includes('needs a terminal')) expect(r.code).toBe(2);
  });
});
