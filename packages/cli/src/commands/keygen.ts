/**
 * `sealstream keygen`: a new random 256-bit key, as padded standard base64 (the form
 * `openssl rand -base64 32` prints), on stdout or in a file created with mode 0600.
 * @module
 */
import { chmod, open } from 'node:fs/promises';
import { formatKey, generateKey, keyId } from '@sealstream/core';
import { CliError, EXIT, usage } from '../exit.ts';
import type { Reporter } from '../report.ts';
import { writeStdout } from '../stdout.ts';

/** Flags of `keygen`. */
export interface KeygenFlags {
  out?: string;
  force?: boolean;
}

/** Runs `keygen`. */
export async function keygen(flags: KeygenFlags, reporter: Reporter): Promise<void> {
  const key = generateKey();
  const id = keyId(key);
  const text = `${formatKey(key)}\n`;
  if (flags.out === undefined || flags.out === '-') {
    if (reporter.json) throw usage('--json output never carries keys: use keygen --out FILE --json');
    reporter.dataOnStdout = true;
    await writeStdout(text);
    reporter.info(`key ID ${id}`);
    return;
  }
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(flags.out, flags.force ? 'w' : 'wx', 0o600);
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'EEXIST')
      throw usage(`${flags.out} exists; not overwriting a key file`, 'pass --force to replace it');
    throw new CliError(
      code === 'ENOENT' ? EXIT.NOT_FOUND : EXIT.ERROR,
      `cannot create ${flags.out}: ${code}`,
      { cause },
    );
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(flags.out, 0o600); // an existing file replaced with --force keeps its mode otherwise
  reporter.result({ command: 'keygen', keyId: id, file: flags.out }, `key ID ${id} written to ${flags.out}`);
}
