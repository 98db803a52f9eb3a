/**
 * Where key material comes from: key files, passphrase files and the terminal prompt. A key on
 * the command line is accepted (mc compatibility for SSE-C) with a warning. No function here puts
 * a key or passphrase in an error message.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { isSealstreamError, keyId, parseKey, type Recipient } from '@sealstream/core';
import { CliError, EXIT, usage } from './exit.ts';
import { promptHidden } from './prompt.ts';
import type { Reporter } from './report.ts';

/** Key options shared by the commands that take client-side keys. */
export interface KeyFlags {
  keyFile?: string[];
  key?: string[];
  passphrase?: boolean;
  passphraseFile?: string;
  workFactor?: string;
}

/** Keys gathered from the flags. */
export interface GatheredKeys {
  /** Raw keys and passphrases, in the order given. */
  recipients: Recipient[];
  /** Key IDs of the raw keys, for reports. */
  keyIds: string[];
  /** Number of passphrases. */
  passphrases: number;
}

/** Says once per run that a key was seen on the command line. */
export function warnKeyOnCommandLine(reporter: Reporter, flag: string, better: string): void {
  reporter.warn(
    `a key given with ${flag} is visible to other users of this machine (process list) and stays in shell history; ${better}`,
  );
  // Overwrites the argument memory that /proc/<pid>/cmdline shows, shrinking the window in which
  // the key is visible. It was visible before this line ran, so the warning stands.
  process.title = 'sealstream';
}

/** Reads a file holding one or more keys (one per line; blank lines and `#` comments ignored). */
export async function readKeyFile(path: string, flag: string): Promise<Uint8Array[]> {
  const text = await readSecretFile(path, flag);
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new CliError(EXIT.KEY, `${flag} ${path} holds no key`);
  return lines.map((line, i) => parseKeyText(line, `${flag} ${path}, line ${i + 1}`));
}

/** Parses key text; the error names where the key came from, never the key. */
export function parseKeyText(text: string, where: string): Uint8Array {
  try {
    return parseKey(text);
  } catch (err) {
    if (isSealstreamError(err, 'INVALID_KEY')) {
      throw new CliError(
        EXIT.KEY,
        `${where}: ${err.message} (a key is 32 bytes as base64, e.g. from \`sealstream keygen\` or \`openssl rand -base64 32\`, or 64 hex digits)`,
      );
    }
    throw err;
  }
}

/** Reads a passphrase file: its first line, without the line ending. */
export async function readPassphraseFile(path: string, flag = '--passphrase-file'): Promise<string> {
  const text = await readSecretFile(path, flag);
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  if (first === '') throw new CliError(EXIT.KEY, `${flag} ${path}: the first line is empty`);
  return first;
}

async function readSecretFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    throw new CliError(
      code === 'ENOENT' ? EXIT.NOT_FOUND : EXIT.ERROR,
      `${flag} ${path} cannot be read: ${code ?? (cause as Error).message}`,
      { cause },
    );
  }
}

/** Parses `--work-factor`. */
export function workFactorOf(flags: KeyFlags): number | undefined {
  if (flags.workFactor === undefined) return undefined;
  const n = Number(flags.workFactor);
  if (!Number.isInteger(n) || n < 10 || n > 22) {
    throw usage(`--work-factor expected an integer from 10 to 22 (scrypt logN), got ${flags.workFactor}`);
  }
  return n;
}

/**
 * Gathers keys and passphrases from the flags.
 * @param purpose - `seal` prompts twice for a new passphrase; `open` once.
 */
export async function gatherKeys(
  flags: KeyFlags,
  reporter: Reporter,
  purpose: 'seal' | 'open',
  names = {
    keyFile: '--key-file',
    key: '--key',
    passphrase: '--passphrase',
    passphraseFile: '--passphrase-file',
  },
): Promise<GatheredKeys> {
  const recipients: Recipient[] = [];
  const keyIds: string[] = [];
  let passphrases = 0;
  const workFactor = workFactorOf(flags);
  for (const path of flags.keyFile ?? []) {
    for (const key of await readKeyFile(path, names.keyFile)) {
      recipients.push(key);
      keyIds.push(keyId(key));
    }
  }
  if (flags.key && flags.key.length > 0) {
    warnKeyOnCommandLine(reporter, names.key, `prefer ${names.keyFile} FILE`);
    flags.key.forEach((text, i) => {
      const key = parseKeyText(text, `${names.key} #${i + 1}`);
      recipients.push(key);
      keyIds.push(keyId(key));
    });
  }
  if (flags.passphraseFile !== undefined) {
    const passphrase = await readPassphraseFile(flags.passphraseFile, names.passphraseFile);
    recipients.push(workFactor === undefined ? { passphrase } : { passphrase, workFactor });
    passphrases++;
  }
  if (flags.passphrase) {
    const passphrase = await promptHidden(purpose === 'seal' ? 'new passphrase: ' : 'passphrase: ');
    if (passphrase === '') throw usage('the passphrase is empty');
    if (purpose === 'seal' && (await promptHidden('repeat the passphrase: ')) !== passphrase) {
      throw usage('the two passphrases differ');
    }
    recipients.push(workFactor === undefined ? { passphrase } : { passphrase, workFactor });
    passphrases++;
  }
  return { recipients, keyIds, passphrases };
}

/** Describes who data is sealed to, for reports: key IDs and a passphrase count. */
export function describeRecipients(keys: GatheredKeys): string {
  const parts = keys.keyIds.map((id) => `key ${id}`);
  if (keys.passphrases)
    parts.push(keys.passphrases === 1 ? 'a passphrase' : `${keys.passphrases} passphrases`);
  return parts.join(', ');
}
