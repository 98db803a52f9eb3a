/**
 * Where key material comes from: key files (raw keys as text or as 32 bytes, age private and
 * public keys), age recipients files, `-r` public keys, passphrase files, the terminal prompt and
 * the environment (`SEALSTREAM_KEY`, `SEALSTREAM_KEY_FILE`, `SEALSTREAM_PRIVATE_KEY_FILE`). A key on
 * the command line is accepted (mc compatibility for SSE-C) with a warning. No function here puts
 * a key or passphrase in an error message.
 * @module
 */

import { open } from 'node:fs/promises';
import {
  DEFAULT_MAX_WORK_FACTOR,
  isSealstreamError,
  keyId,
  type PrivateKey,
  PublicKeyRecipient,
  parseAgeKeyText,
  parseKey,
  parseRecipient,
  parseRecipientsFile,
  type Recipient,
  type RecipientInfo,
} from '@sealstream/core';
import { refuseClosedStdin } from './closed-stdio.ts';
import { CliError, EXIT, localError, usage } from './exit.ts';
import { promptHidden } from './prompt.ts';
import type { Reporter } from './report.ts';

/** Key options shared by the commands that take client-side keys. */
export interface KeyFlags {
  keyFile?: string[];
  key?: string[];
  /** `-i`: age private key files (age's identity files; any key file is accepted). */
  privateKeyFile?: string[];
  /** `-r`: age public keys (`age1…`, `age1pq1…`), to seal to. */
  recipient?: string[];
  /** `-R`: age recipients files, to seal to. */
  recipientsFile?: string[];
  passphrase?: boolean;
  passphraseFile?: string;
  workFactor?: string;
  maxWorkFactor?: string;
}

/** The flag names a command uses for {@link KeyFlags} (rekey's new keys are `--to-…`). */
export interface KeyFlagNames {
  keyFile: string;
  key: string;
  privateKeyFile: string;
  recipient: string;
  recipientsFile: string;
  passphrase: string;
  passphraseFile: string;
}

/** The names of the flags of {@link KeyFlags} on most commands. */
export const KEY_FLAG_NAMES: KeyFlagNames = {
  keyFile: '--key-file',
  key: '--key',
  privateKeyFile: '--private-key-file',
  recipient: '--recipient',
  recipientsFile: '--recipients-file',
  passphrase: '--passphrase',
  passphraseFile: '--passphrase-file',
};

/** Keys gathered from the flags. */
export interface GatheredKeys {
  /** Raw keys, private and public keys, and passphrases: by flag (key files, -i, -r, -R, --key, passphrases), each in the order given. */
  recipients: Recipient[];
  /** Key IDs of the raw keys and public keys (of private keys: their public key's), for reports. */
  keyIds: string[];
  /** How each key is named in reports: `key ID` for raw keys, `x25519 public key ID` for the others. */
  labels: string[];
  /** Number of passphrases. */
  passphrases: number;
  /** The highest passphrase work factor to accept when opening (`--max-work-factor`); the core's default when undefined. */
  maxWorkFactor: number | undefined;
  /** The environment variable the keys came from, when none was given on the command line. */
  fromEnvironment: string | undefined;
}

/** One key read from a key file or key text: a raw key, an age private key or an age public key. */
export type KeyMaterial = Uint8Array | PrivateKey | PublicKeyRecipient;

/** Says once per run that a key was seen on the command line. */
export function warnKeyOnCommandLine(reporter: Reporter, flag: string, better: string): void {
  reporter.warn(
    `a key given with ${flag} is visible to other users of this machine (process list) and stays in shell history; ${better}`,
  );
  // bin.ts wiped it from the process list at start-up; it was visible until then, so the warning stands
}

/** Size of a key file holding the key's 32 bytes as they are (`openssl rand 32 > key`). */
const BINARY_KEY_FILE_SIZE = 32;

/**
 * Reads a key file: 32 bytes exactly are a raw key as bytes (`openssl rand 32`, aws-cli's
 * `fileb://`); any other file is text, one key per line (blank lines and `#` comments ignored):
 * a raw key (base64 or 64 hex digits, `sealstream keygen`, `openssl rand -base64 32`), an age
 * private key (`AGE-SECRET-KEY-1…`, `AGE-SECRET-KEY-PQ-1…`: `age-keygen` files work as they are)
 * or an age public key (`age1…`, `age1pq1…`). No key text is 32 bytes long, so the two forms
 * cannot be mistaken for each other; 32 bytes that are a line of text are read as text (and fail).
 */
export async function readKeyFile(path: string, flag: string): Promise<KeyMaterial[]> {
  const bytes = await readSecretFile(path, flag);
  if (bytes.length === BINARY_KEY_FILE_SIZE && !isLineOfText(bytes)) return [new Uint8Array(bytes)];
  // each key with its line number in the file, comments and blank lines counted, as an editor shows it
  const lines = bytes
    .toString('utf8')
    .split(/\r?\n/)
    .map((text, i) => ({ text: text.trim(), number: i + 1 }))
    .filter(({ text }) => text !== '' && !text.startsWith('#'));
  if (lines.length === 0) throw new CliError(EXIT.KEY, `${flag} ${path} holds no key`);
  const first = lines[0]!.text;
  if (first.startsWith('age-encryption.org/') || first.startsWith('-----BEGIN AGE')) {
    throw new CliError(
      EXIT.KEY,
      `${flag} ${path} is encrypted with age; decrypt it with \`age -d\` first (passphrase-protected key files are not supported)`,
    );
  }
  return lines.map(({ text, number }) => {
    const where = `${flag} ${path}, line ${number}`;
    if (/^-----BEGIN [A-Z ]*PRIVATE KEY-----$/.test(text) || /^(ssh-|ecdsa-|sk-ssh-|sk-ecdsa-)/.test(text)) {
      throw new CliError(
        EXIT.KEY,
        `${where}: this is an SSH or PEM key, which sealstream does not take (age's -i does): use an age key (age-keygen, sealstream keygen --type x25519) or a raw key (sealstream keygen)`,
      );
    }
    return parseKeyMaterial(text, where);
  });
}

/**
 * Whether 32 bytes are a line of text (printable ASCII ending in a line end), which 32 random bytes
 * never are (odds below 2^-50): someone's 31 characters (a passphrase, a short or cut key) and a
 * newline. Taken as a key's bytes, they would make a key of typed text, guessable and silently
 * accepted; read as text, they fail as the key text they are not.
 */
function isLineOfText(bytes: Uint8Array): boolean {
  const body = bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
  return bytes.at(-1) === 0x0a && body.every((b) => (b >= 0x20 && b <= 0x7e) || b === 0x09);
}

/** Reads a file that must hold exactly one raw key (SSE-C): as text, or as its 32 bytes. */
export async function readRawKeyFile(path: string, flag: string): Promise<Uint8Array> {
  const keys = await readKeyFile(path, flag);
  if (keys.length !== 1) throw usage(`${flag} ${path} must hold exactly one key, it holds ${keys.length}`);
  const key = keys[0]!;
  if (!(key instanceof Uint8Array)) {
    throw new CliError(
      EXIT.KEY,
      `${flag} ${path} holds an age key; SSE-C takes a 256-bit key (base64, 64 hex digits, or 32 bytes)`,
    );
  }
  return key;
}

/** Parses one key's text: an age key when written as one, else a raw key. The error names `where`, never the key. */
export function parseKeyMaterial(text: string, where: string): KeyMaterial {
  try {
    return parseAgeKeyText(text) ?? parseKey(text);
  } catch (err) {
    if (isSealstreamError(err, 'INVALID_KEY')) {
      throw new CliError(
        EXIT.KEY,
        `${where}: ${err.message} (a key is 32 bytes as base64, e.g. from \`sealstream keygen\` or \`openssl rand -base64 32\`, 64 hex digits, or an age key from \`age-keygen\`)`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** Parses raw key text; the error names where the key came from, never the key. */
export function parseKeyText(text: string, where: string): Uint8Array {
  try {
    return parseKey(text);
  } catch (err) {
    if (isSealstreamError(err, 'INVALID_KEY')) {
      throw new CliError(
        EXIT.KEY,
        `${where}: ${err.message} (a key is 32 bytes as base64, e.g. from \`sealstream keygen\` or \`openssl rand -base64 32\`, or 64 hex digits)`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** The key ID of a key, and how reports name it. */
export function describeKey(key: KeyMaterial): { keyId: string; label: string } {
  if (key instanceof Uint8Array) {
    const id = keyId(key);
    return { keyId: id, label: `key ${id}` };
  }
  return { keyId: key.keyId, label: `${key.type} public key ${key.keyId}` };
}

/** Reads a passphrase file: its first line, without the line ending. */
export async function readPassphraseFile(path: string, flag = '--passphrase-file'): Promise<string> {
  const text = (await readSecretFile(path, flag)).toString('utf8');
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  if (first === '') throw new CliError(EXIT.KEY, `${flag} ${path}: the first line is empty`);
  return first;
}

/**
 * Warns about a passphrase file's first line that the same passphrase typed at the prompt would not
 * match, or that is no passphrase: a byte-order mark (Windows editors write one), spaces or tabs
 * around it (all part of the passphrase, as the file is taken exactly), or a key's text (a key file
 * given as a passphrase file is stretched as a passphrase, not used as the key). Nothing of the
 * passphrase is shown.
 */
function warnOddPassphrase(passphrase: string, where: string, reporter: Reporter): void {
  if (passphrase.startsWith('\uFEFF')) {
    reporter.warn(
      `${where} starts with a byte-order mark (U+FEFF, written by some editors): it is part of the passphrase, which then differs from the same passphrase typed at a prompt; save the file without it`,
    );
  } else if (/^[ \t]|[ \t]$/.test(passphrase)) {
    reporter.warn(
      `${where}: the passphrase begins or ends with a space or tab, which is part of it (the first line is taken exactly)`,
    );
  }
  let isKey = false;
  try {
    isKey = (parseAgeKeyText(passphrase) ?? parseKey(passphrase)) !== undefined;
  } catch {
    // not a key: a passphrase, as expected
  }
  if (isKey) {
    reporter.warn(
      `${where} holds a key, not a passphrase: it is used as a passphrase (stretched with scrypt), and the key itself will not open the data; give key files with --key-file or -i`,
    );
  }
}

/**
 * Largest key, recipients or passphrase file read: 64 post-quantum public keys (the most a header
 * holds is 54) with comments take about 130 KiB. A larger file is not one of these (a data file
 * given by mistake, `/dev/zero`, a pipe that never ends) and is refused once this much is read,
 * instead of being read into memory whole.
 */
const MAX_KEY_FILE_SIZE = 1 << 20;

/**
 * Reads a key file; `-` is stdin (`keygen -y -`, `key-id -`), refused when it is closed. At most
 * {@link MAX_KEY_FILE_SIZE} bytes are read: a larger file is refused (exit 3) without reading on.
 */
async function readSecretFile(path: string, flag: string): Promise<Buffer> {
  const tooLarge = () =>
    new CliError(
      EXIT.KEY,
      `${flag} ${path} is larger than ${MAX_KEY_FILE_SIZE >> 20} MiB: not a key, recipients or passphrase file`,
      { hint: 'give the file that holds the keys (one a line), not a data file' },
    );
  try {
    if (path === '-') {
      claimStdin(`${flag} -`);
      refuseClosedStdin();
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of process.stdin) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size > MAX_KEY_FILE_SIZE) throw tooLarge();
      }
      return Buffer.concat(chunks);
    }
    return await readBounded(path, MAX_KEY_FILE_SIZE, tooLarge);
  } catch (cause) {
    throw localError(cause, `${flag} ${path}`);
  }
}

/** What this run reads stdin for, once something has: keys (`--key-file -`) or the data. */
let stdinReadFor: string | undefined;

/**
 * Claims stdin for one use: a key or passphrase file given as `-`, or the data input. Read for
 * keys, stdin is used up, and the data read from it next would be empty (`cat key | sealstream
 * encrypt --key-file -` sealed nothing and said so as a success); read as data, it holds no keys.
 * @param use - What stdin is read for, as messages name it: `--key-file -`, `the input`.
 * @throws {CliError} usage error when stdin is already read for something else.
 */
export function claimStdin(use: string): void {
  if (stdinReadFor !== undefined && stdinReadFor !== use) {
    throw usage(
      `stdin is read for ${stdinReadFor}: it cannot also be ${use}`,
      'give one of them as a file (keys in a file, or the input file as an argument)',
    );
  }
  stdinReadFor = use;
}

/**
 * Reads at most `limit` bytes of `path`; `tooLarge()` is thrown once the file proves longer, by
 * its size or (a device, a FIFO, a file that grows) by what a read returns past the limit.
 */
async function readBounded(path: string, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat();
    if (info.isFile() && info.size > limit) throw tooLarge();
    const buffer = Buffer.allocUnsafe(limit + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > limit) throw tooLarge();
    }
    return Buffer.from(buffer.subarray(0, length));
  } finally {
    await handle.close();
  }
}

/** Parses a scrypt work factor flag (logN, 10 to 22 as SPEC §5.2 allows). */
function logNOf(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  // decimal digits only: Number() also takes 0x16, 1e1 and ' 16 ', which nobody means as logN
  const n = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
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

/** True when any client-side key flag of {@link KeyFlags} is set. */
export function hasKeyFlags(flags: KeyFlags): boolean {
  return (
    [flags.keyFile, flags.key, flags.privateKeyFile, flags.recipient, flags.recipientsFile].some(
      (list) => list !== undefined && list.length > 0,
    ) ||
    flags.passphrase === true ||
    flags.passphraseFile !== undefined
  );
}

/**
 * Keys from the environment, for runs that give none on the command line (CI systems pass secrets
 * this way): `SEALSTREAM_KEY` (one key's text: raw, or an age private key; to seal, also an age
 * public key), `SEALSTREAM_KEY_FILE` and `SEALSTREAM_PRIVATE_KEY_FILE` (a key file's path).
 */
async function environmentKeys(): Promise<{ keys: KeyMaterial[]; from: string } | undefined> {
  const keys: KeyMaterial[] = [];
  const from: string[] = [];
  const text = nonEmpty(process.env.SEALSTREAM_KEY);
  if (text !== undefined) {
    keys.push(parseKeyMaterial(text, 'SEALSTREAM_KEY'));
    from.push('SEALSTREAM_KEY');
  }
  for (const name of ['SEALSTREAM_KEY_FILE', 'SEALSTREAM_PRIVATE_KEY_FILE']) {
    const path = nonEmpty(process.env[name]);
    if (path === undefined) continue;
    keys.push(...(await readKeyFile(path, name)));
    from.push(name);
  }
  return keys.length === 0 ? undefined : { keys, from: from.join(', ') };
}

/**
 * Gathers keys and passphrases from the flags, or else from the environment.
 * @param purpose - `seal` prompts twice for a new passphrase and seals to public keys (a private
 *   key seals to its public key); `open` prompts once, and refuses public keys, which open nothing.
 * @param options.environment - Whether keys may come from the environment when no key flag is
 *   set (false for new keys, and when another kind of encryption was chosen on the command line).
 */
export async function gatherKeys(
  flags: KeyFlags,
  reporter: Reporter,
  purpose: 'seal' | 'open',
  names: KeyFlagNames = KEY_FLAG_NAMES,
  options: { environment?: boolean } = {},
): Promise<GatheredKeys> {
  const recipients: Recipient[] = [];
  const keyIds: string[] = [];
  const labels: string[] = [];
  let passphrases = 0;
  let fromEnvironment: string | undefined;
  const workFactor = workFactorOf(flags);
  const maxWorkFactor = maxWorkFactorOf(flags);
  const add = (key: KeyMaterial, where: string) => {
    if (purpose === 'open' && key instanceof PublicKeyRecipient) {
      throw new CliError(
        EXIT.KEY,
        `${where} is a public key (age1…), which can only seal: to open, give its private key with -i FILE`,
      );
    }
    const { keyId: id, label } = describeKey(key);
    // the same key given twice (a file and its copy, a private key and its public key): one
    // recipient, not two stanzas wrapping the same data key for it
    if (labels.includes(label)) return;
    recipients.push(key);
    keyIds.push(id);
    labels.push(label);
  };
  for (const path of flags.keyFile ?? []) {
    for (const key of await readKeyFile(path, names.keyFile)) add(key, `${names.keyFile} ${path}`);
  }
  for (const path of flags.privateKeyFile ?? []) {
    for (const key of await readKeyFile(path, names.privateKeyFile))
      add(key, `${names.privateKeyFile} ${path}`);
  }
  for (const [i, text] of (flags.recipient ?? []).entries()) {
    add(
      parsePublicKey(() => parseRecipient(text), `${names.recipient} #${i + 1}`),
      `${names.recipient} #${i + 1}`,
    );
  }
  for (const path of flags.recipientsFile ?? []) {
    const text = (await readSecretFile(path, names.recipientsFile)).toString('utf8');
    const where = `${names.recipientsFile} ${path}`;
    for (const key of parsePublicKey(() => parseRecipientsFile(text), where)) add(key, where);
  }
  if (flags.key && flags.key.length > 0) {
    warnKeyOnCommandLine(reporter, names.key, `prefer ${names.keyFile} FILE or SEALSTREAM_KEY`);
    flags.key.forEach((text, i) => {
      const where = `${names.key} #${i + 1}`;
      add(parseKeyMaterial(text, where), where);
    });
  }
  if (flags.passphraseFile !== undefined) {
    const passphrase = await readPassphraseFile(flags.passphraseFile, names.passphraseFile);
    warnOddPassphrase(passphrase, `${names.passphraseFile} ${flags.passphraseFile}`, reporter);
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
  if (recipients.length === 0 && options.environment !== false) {
    const env = await environmentKeys();
    if (env !== undefined) {
      for (const key of env.keys) add(key, env.from);
      fromEnvironment = env.from;
      // a key no flag named: the run says where it came from
      reporter.info(`client-side keys from ${env.from}`);
    }
  }
  return { recipients, keyIds, labels, passphrases, maxWorkFactor, fromEnvironment };
}

/** Parses age public-key text, with the error naming where it came from (public keys are not secret). */
function parsePublicKey<T>(parse: () => T, where: string): T {
  try {
    return parse();
  } catch (err) {
    if (isSealstreamError(err, 'INVALID_KEY'))
      throw new CliError(EXIT.KEY, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Describes who data is sealed to, for reports: key IDs and a passphrase count. */
export function describeRecipients(keys: Pick<GatheredKeys, 'labels' | 'passphrases'>): string {
  const parts = [...keys.labels];
  if (keys.passphrases)
    parts.push(keys.passphrases === 1 ? 'a passphrase' : `${keys.passphrases} passphrases`);
  return parts.join(', ');
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** How reports name one recipient of a header (`inspectHeader(...).recipients`). */
export function recipientLabel(r: RecipientInfo): string {
  if (r.type === 'key') return `key ${r.keyId}`;
  if (r.type === 'passphrase') return `passphrase (scrypt logN ${r.workFactor})`;
  if (r.type === 'unknown') return `unknown type ${r.name}`;
  return `${r.type} public key ${r.keyId}`;
}
