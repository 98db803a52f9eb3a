/**
 * Where key material comes from: key files, passphrase files and the terminal prompt. A key on
 * the command line is accepted (mc compatibility for SSE-C) with a warning. No function here puts
 * a key or passphrase in an error message.
 * @module
 */
import { readFile } from 'node:fs/promises';
import {
  DEFAULT_MAX_WORK_FACTOR,
  isSealstreamError,
  keyId,
  parseKey,
  type Recipient,
} from '@sealstream/core';
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
  maxWorkFactor?: string;
}

/** Keys gathered from the flags. */
export interface GatheredKeys {
  /** Raw keys and passphrases, in the order given. */
  recipients: Recipient[];
  /** Key IDs of the raw keys, for reports. */
  keyIds: string[];
  /** Number of passphrases. */
  passphrases: number;
  /** The highest passphrase work factor to accept when opening (`--max-work-factor`); the core's default when undefined. */
  maxWorkFactor: number | undefined;
}

/** Says once per run that a key was seen on the command line. */
export function warnKeyOnCommandLine(reporter: Reporter, flag: string, better: string): void {
  reporter.warn(
    `a key given with ${flag} is visible to other users of this machine (process list) and stays in shell history; ${better}`,
  );
  // bin.ts wiped it from the process list at start-up; it was visible until then, so the warning stands
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

/** Parses a scrypt work factor flag (logN, 10 to 22 as SPEC §5.2 allows). */
function logNOf(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 10 || n > 22) {
    throw usage(`${flag} expected an integer from 10 to 22 (scrypt logN), got ${text}`);
  }
  return n;
}

/**
 * Parses `--work-factor` (of new passphrases) against the reader limit, `--max-work-factor`
 * (default 20, the core's). A file sealed above the limit is one that `decrypt` refuses unless
 * told otherwise, so writing one needs the same flag as reading it: the user confirms that every
 * reader of the data will be given it.
 * @throws {CliError} usage error for a work factor above the limit.
 */
export function workFactorOf(flags: KeyFlags): number | undefined {
  const workFactor = logNOf(flags.workFactor, '--work-factor');
  const limit = maxWorkFactorOf(flags) ?? DEFAULT_MAX_WORK_FACTOR;
  if (workFactor !== undefined && workFactor > limit) {
    throw usage(
      `--work-factor ${workFactor} is above ${limit}, the highest work factor ${limit === DEFAULT_MAX_WORK_FACTOR ? 'readers accept by default' : 'given with --max-work-factor'}: decrypt would refuse the data unless given --max-work-factor ${workFactor}`,
      `to write it anyway, confirm with --max-work-factor ${workFactor}, and give every reader the same flag (opening takes about ${2 ** (workFactor - 18)} times as long as the default work factor 18, and ${2 ** (workFactor - 10)} MiB of memory)`,
    );
  }
  return workFactor;
}

/** Parses `--max-work-factor`: the highest passphrase work factor to accept when opening. */
export function maxWorkFactorOf(flags: KeyFlags): number | undefined {
  return logNOf(flags.maxWorkFactor, '--max-work-factor');
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
  const maxWorkFactor = maxWorkFactorOf(flags);
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
  return { recipients, keyIds, passphrases, maxWorkFactor };
}

/** Describes who data is sealed to, for reports: key IDs and a passphrase count. */
export function describeRecipients(keys: GatheredKeys): string {
  const parts = keys.keyIds.map((id) => `key ${id}`);
  if (keys.passphrases)
    parts.push(keys.passphrases === 1 ? 'a passphrase' : `${keys.passphrases} passphrases`);
  return parts.join(', ');
}
