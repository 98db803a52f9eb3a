/**
 * Local files the user may not read, and folders the user may not make: named with the reason in
 * words and exit 1 (not found stays exit 5), instead of the system's text (`EACCES: permission
 * denied, open '/x'`) or a bare code (`/x: EACCES`). Run as another user than the files' owner:
 * as root, through `setpriv` as nobody (root reads everything); otherwise on files of mode 000.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, buildCli, run, tempDir } from './helpers.ts';

const asRoot = process.getuid?.() === 0;
let dir: string;
let key: string;

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  chmodSync(dir, 0o755); // nobody may enter it
  key = join(dir, 'key');
  expect((await run(['keygen', '-q', '-o', key])).code).toBe(0);
  chmodSync(key, 0o644);
  writeFileSync(join(dir, 'plain'), 'hello');
  chmodSync(join(dir, 'plain'), 0o644);
  for (const name of ['secret', 'secret.key']) {
    writeFileSync(join(dir, name), 'not for you');
    chmodSync(join(dir, name), 0o000);
  }
  mkdirSync(join(dir, 'closed'), { mode: 0o700 });
  mkdirSync(join(dir, 'read-only'), { mode: 0o555 });
  chmodSync(join(dir, 'read-only'), 0o555);
});

/** Runs the command as a user who cannot read the files of mode 000 (nobody, when run as root). */
function runAsOther(args: string[]): { code: number | null; stderr: string } {
  const command = asRoot
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bin, ...args]
    : [process.execPath, bin, ...args];
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', input: '' });
  return { code: r.status, stderr: r.stderr };
}

describe('files that cannot be read, folders that cannot be made', () => {
  it('an input, a key file, a path through a closed folder: "cannot be read: permission denied", exit 1', () => {
    for (const [args, named] of [
      [['encrypt', '--key-file', key, '-o', join(dir, 'out1'), join(dir, 'secret')], join(dir, 'secret')],
      [['cat', join(dir, 'secret')], join(dir, 'secret')],
      [
        ['encrypt', '--key-file', join(dir, 'secret.key'), join(dir, 'plain')],
        `--key-file ${join(dir, 'secret.key')}`,
      ],
    ] as const) {
      const r = runAsOther([...args]);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(`${named} cannot be read: permission denied`);
      expect(r.stderr).not.toContain('EACCES');
    }
    if (asRoot) {
      // a path through a folder of another user that nobody may enter
      const r = runAsOther(['encrypt', '--key-file', key, join(dir, 'closed', 'x')]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${join(dir, 'closed', 'x')} cannot be read: permission denied`);
    }
  });

  it('an output folder that cannot be made: named, in words, exit 1', () => {
    const out = join(dir, 'read-only', 'new', 'out');
    const r = runAsOther(['encrypt', '--key-file', key, '-o', out, join(dir, 'plain')]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `the folder ${join(dir, 'read-only', 'new')} cannot be made: permission denied`,
    );
  });
});
