/**
 * Public and private keys as age writes them (SPEC §5.6), so keys made by `age-keygen` work as
 * they are: one key, a recipients file (`age -R`), a private key file (age's identity file,
 * `age -i`), generating keys, and the public key of a private key (`age-keygen -y`).
 * @module
 */
import { Bech32Error, bech32Decode } from './bech32.ts';
import { randomBytes } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import { parseKey } from './keys.ts';
import {
  PrivateKey,
  PublicKeyRecipient,
  type PublicKeyType,
  STANZA_KEMS,
  type StanzaKem,
  stanzaKem,
} from './recipients/public-key.ts';

/** Recipient text prefixes, longest first: `age1pq1…` must not be read as an X25519 `age1…`. */
const RECIPIENT_PREFIXES: readonly [string, StanzaKem][] = [
  ['age1pq1', STANZA_KEMS.mlkem768x25519],
  ['age1', STANZA_KEMS.x25519],
];
const PRIVATE_KEY_PREFIXES: readonly [string, StanzaKem][] = [
  ['AGE-SECRET-KEY-PQ-1', STANZA_KEMS.mlkem768x25519],
  ['AGE-SECRET-KEY-1', STANZA_KEMS.x25519],
];

function invalidKey(detail: string): SealstreamError {
  return new SealstreamError('INVALID_KEY', `invalid key: ${detail}`);
}

/** A public key's text for a message: it is not secret, but a post-quantum one is 1959 characters. */
function shown(text: string): string {
  return JSON.stringify(text.length > 24 ? `${text.slice(0, 20)}…` : text);
}

/**
 * The error for text that is no age public key. Only text that looks public (an `age1…` key in
 * capitals, an SSH public key) is repeated: what else comes here may be a secret given in the wrong
 * place (a private key in any case, a plugin identity, a raw key, a passphrase), and is described
 * without a character of it.
 */
function notAPublicKey(t: string): SealstreamError {
  if (/^AGE-SECRET-KEY-/i.test(t)) {
    return invalidKey(
      'this is a private key, not a public key: give its public key (age-keygen -y prints it)',
    );
  }
  if (/^AGE-PLUGIN-/i.test(t)) {
    return invalidKey('this is an age plugin identity (a private key), not a public key');
  }
  if (/^(ssh-|ecdsa-)/.test(t)) {
    return invalidKey(
      `${shown(t)} is not an age public key (SSH keys are not supported: use an age1… key from age-keygen)`,
    );
  }
  if (/^AGE1/.test(t) && t === t.toUpperCase()) {
    // bech32 allows upper case (a QR code's), but age's keys are lower case and age refuses this too
    return invalidKey(
      `${shown(t)} is an age public key in upper case: write it in lower case, as age-keygen prints it (age refuses this form too)`,
    );
  }
  if (/^age1/i.test(t)) return invalidKey(`${shown(t)} is not a public key: expected age1… or age1pq1…`);
  const what = isRawKeyText(t) ? 'a raw key (a secret)' : `text of ${t.length} characters`;
  return invalidKey(`${what} is not a public key: expected age1… or age1pq1…`);
}

/** Whether `text` is a raw 256-bit key in one of its text forms. */
function isRawKeyText(text: string): boolean {
  try {
    parseKey(text);
    return true;
  } catch {
    return false;
  }
}

function decode(text: string, prefix: string, what: string): Uint8Array {
  let decoded: { hrp: string; data: Uint8Array };
  try {
    decoded = bech32Decode(text);
  } catch (e) {
    if (e instanceof Bech32Error) throw invalidKey(`${what} is not valid bech32: ${e.message}`);
    throw e;
  }
  if (`${decoded.hrp}1` !== prefix) throw invalidKey(`${what} does not start with ${prefix}`);
  return decoded.data;
}

/**
 * Parses one public key in age's text: `age1…` (X25519, as `age-keygen` prints) or `age1pq1…`
 * (ML-KEM-768 + X25519, as `age-keygen -pq` prints). Surrounding whitespace is ignored.
 * @throws {SealstreamError} `INVALID_KEY` for any other text (SSH keys and age plugin recipients
 * are not supported), a bad checksum, a wrong length, or an unusable key (SPEC §5.4, §5.5).
 * @example
 * const recipient = parseRecipient('age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p');
 */
export function parseRecipient(text: string): PublicKeyRecipient {
  if (typeof text !== 'string') throw invalidKey(`expected a string, got ${typeof text}`);
  const t = text.trim();
  const match = RECIPIENT_PREFIXES.find(([prefix]) => t.startsWith(prefix));
  if (!match) throw notAPublicKey(t);
  const [prefix, kem] = match;
  const separator = t.lastIndexOf('1');
  if (separator + 1 !== prefix.length) {
    throw invalidKey(
      `${shown(t)} is an age plugin recipient (${t.slice(0, separator + 1)}…), which sealstream does not support`,
    );
  }
  const publicKey = decode(t, prefix, `the ${kem.type} public key ${shown(t)}`);
  if (publicKey.length !== kem.publicKeyLength) {
    throw invalidKey(
      `the public key ${shown(t)} holds ${publicKey.length} bytes, not ${kem.publicKeyLength}`,
    );
  }
  return new PublicKeyRecipient(kem.type, publicKey);
}

/**
 * Parses one private key in age's text: `AGE-SECRET-KEY-1…` (X25519) or `AGE-SECRET-KEY-PQ-1…`
 * (ML-KEM-768 + X25519). Surrounding whitespace is ignored. Messages never repeat the text.
 * @throws {SealstreamError} `INVALID_KEY` for any other text, a bad checksum or a wrong length.
 * @example
 * const key = parsePrivateKey(process.env.SEALSTREAM_AGE_KEY!);
 */
export function parsePrivateKey(text: string): PrivateKey {
  if (typeof text !== 'string') throw invalidKey(`expected a string, got ${typeof text}`);
  const t = text.trim();
  const match = PRIVATE_KEY_PREFIXES.find(([prefix]) => t.startsWith(prefix));
  if (!match) {
    const what = t.startsWith('AGE-PLUGIN-')
      ? 'an age plugin identity, which sealstream does not support'
      : 'not a private key: expected AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…';
    throw invalidKey(`the text is ${what}`);
  }
  const [prefix, kem] = match;
  const secret = decode(t, prefix, `the ${kem.type} private key`);
  if (secret.length !== kem.privateKeyLength) {
    throw invalidKey(`the ${kem.type} private key holds ${secret.length} bytes, not ${kem.privateKeyLength}`);
  }
  return new PrivateKey(kem.type, secret);
}

/**
 * The meaningful lines of an age key file: without `#` comments and blank lines, each trimmed,
 * with its line number. Line ends may be LF or CRLF.
 */
function keyLines(text: string): { line: string; number: number }[] {
  if (typeof text !== 'string') throw invalidKey(`expected the file's text, got ${typeof text}`);
  return text
    .split(/\r?\n/)
    .map((line, i) => ({ line: line.trim(), number: i + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'));
}

/** Parses each line of a key file; an error names the file and the line, and an empty file is one. */
function parseLines<K>(
  lines: readonly { line: string; number: number }[],
  parse: (line: string) => K,
  file: string,
  what: string,
): K[] {
  const keys = lines.map(({ line, number }) => {
    try {
      return parse(line);
    } catch (e) {
      if (!(e instanceof SealstreamError)) throw e;
      throw new SealstreamError(e.code, `${file}, line ${number}: ${e.message}`, { cause: e });
    }
  });
  if (keys.length === 0) throw invalidKey(`the ${file} holds no ${what}`);
  return keys;
}

/**
 * Parses a recipients file in age's format (`age -R`): one public key per line, lines starting
 * with `#` and blank lines ignored.
 * @throws {SealstreamError} `INVALID_KEY` naming the line of a key that does not parse, or when
 * the file holds no key at all.
 * @example
 * const recipients = parseRecipientsFile(await readFile('team.txt', 'utf8'));
 */
export function parseRecipientsFile(text: string): PublicKeyRecipient[] {
  return parseLines(keyLines(text), parseRecipient, 'recipients file', 'public key');
}

/**
 * Parses a private key file in age's format (`age -i`, what `age-keygen` writes): one private key
 * per line, lines starting with `#` and blank lines ignored.
 * @throws {SealstreamError} `INVALID_KEY` naming the line of a key that does not parse, when the
 * file is itself encrypted (age's passphrase-protected identity files are not supported: decrypt
 * it with `age -d` first), or when it holds no key at all.
 * @example
 * const keys = parsePrivateKeysFile(await readFile('key.txt', 'utf8'));
 * const plain = await decrypt(sealed, { keys });
 */
export function parsePrivateKeysFile(text: string): PrivateKey[] {
  const lines = keyLines(text);
  const first = lines[0]?.line ?? '';
  if (first.startsWith('age-encryption.org/') || first.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')) {
    throw invalidKey(
      'the private key file is encrypted with age; decrypt it with `age -d` first (passphrase-protected key files are not supported)',
    );
  }
  return parseLines(lines, parsePrivateKey, 'private key file', 'private key');
}

/**
 * Generates a new key pair (`age-keygen`, or `age-keygen -pq` for `mlkem768x25519`).
 * @param type - `x25519` (default: 62-character public keys, what age users share today) or
 * `mlkem768x25519` (post-quantum hybrid; 1959-character public keys).
 * @example
 * const key = generatePrivateKey();
 * await writeFile('key.txt', formatPrivateKeyFile(key), { mode: 0o600 });
 * console.log(key.recipient.toString()); // age1…
 */
export function generatePrivateKey(type: PublicKeyType = 'x25519'): PrivateKey {
  return new PrivateKey(type, randomBytes(stanzaKem(type).privateKeyLength));
}

/**
 * A private key file as `age-keygen` writes it: `# created:` and `# public key:` comment lines, then
 * the private key. It holds the secret: write it with mode 0600.
 * @param created - The time in the `# created:` line (default: now).
 */
export function formatPrivateKeyFile(key: PrivateKey, created: Date = new Date()): string {
  const stamp = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `# created: ${stamp}\n# public key: ${key.recipient}\n${key.secretText()}\n`;
}

/**
 * A recipients file for keys, one public key per line with no comments, as `age-keygen -y` prints
 * for a private key file.
 * @example
 * formatRecipientsFile(parsePrivateKeysFile(text)); // "age1…\n"
 */
export function formatRecipientsFile(keys: readonly (PrivateKey | PublicKeyRecipient)[]): string {
  return keys.map((k) => `${k instanceof PrivateKey ? k.recipient : k}\n`).join('');
}

/** Lengths of a raw key's text (SPEC §3.1: base64 with or without padding, hex); no age key text has them. */
const RAW_KEY_TEXT_LENGTHS = new Set([43, 44, 64]);

/**
 * Reads `text` as an age key when it is written as one (`age1…`, `AGE-…`, and not of a raw key's
 * text length, so the two kinds of text can never be mistaken for each other); undefined otherwise.
 * @throws {SealstreamError} `INVALID_KEY` for age-style text that does not parse.
 */
export function parseAgeKeyText(text: string): PublicKeyRecipient | PrivateKey | undefined {
  const t = text.trim();
  if (RAW_KEY_TEXT_LENGTHS.has(t.length)) return undefined;
  if (t.startsWith('age1')) return parseRecipient(t);
  if (t.startsWith('AGE-')) return parsePrivateKey(t);
  return undefined;
}
