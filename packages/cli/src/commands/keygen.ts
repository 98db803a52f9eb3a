/**
 * `sealstream keygen`: a new random 256-bit key, as padded standard base64 (the form
 * `openssl rand -base64 32` prints), on stdout or in a file created with mode 0600.
 * @module
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatKey, generateKey, keyId } from '@sealstream/core';
import { CliError, EXIT, usage } from '../exit.ts';
import { pendingFile } from '../pending.ts';
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
  // a temporary file of mode 0600 from its first byte, moved into place whole: another user never
  // sees the key, not even while an existing file (of whatever mode) is being replaced
  const file = await pendingFile(flags.out, { mode: 0o600, replace: flags.force === true });
  try {
    await pipeline(Readable.from([Buffer.from(text)]), file.stream);
    await file.commit();
  } catch (cause) {
    await file.discard();
    if ((cause as { code?: string }).code === 'EEXIST')
      throw usage(`${flags.out} exists; not overwriting a key file`, 'pass --force to replace it');
    throw cause instanceof CliError
      ? cause
      : new CliError(EXIT.ERROR, `cannot create ${flags.out}: ${(cause as { code?: string }).code}`, {
          cause,
        });
  }
  reporter.result({ command: 'keygen', keyId: id, file: flags.out }, `key ID ${id} written to ${flags.out}`);
}
