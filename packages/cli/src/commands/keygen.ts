/**
 * `sealstream keygen`: a new key. By default a random 256-bit key as padded standard base64 (the
 * form `openssl rand -base64 32` prints); with `--type x25519` or `--type pq` an age key pair, the
 * private key file written as `age-keygen` writes it and the public key printed. On stdout, or in a
 * file created with mode 0600 and moved into place whole.
 *
 * `sealstream keygen -y FILE` prints the public keys of the private keys in FILE (`age-keygen -y`);
 * `sealstream key-id FILE` prints the key ID of every key in a key file, public or secret.
 * @module
 */
import { fstatSync, type Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  formatKey,
  formatPrivateKeyFile,
  generateKey,
  generatePrivateKey,
  keyId,
  PrivateKey,
  type PublicKeyType,
} from '@sealstream/core';
import { refuseClosedStdout } from '../closed-stdio.ts';
import { CliError, EXIT, usage } from '../exit.ts';
import { describeKey, readKeyFile } from '../keys.ts';
import { pendingFile } from '../pending.ts';
import type { Reporter } from '../report.ts';
import { writeStdout } from '../stdout.ts';

/** Flags of `keygen`. */
export interface KeygenFlags {
  out?: string;
  force?: boolean;
  type?: string;
  /** `-y FILE`: print the public keys of FILE's private keys instead of making a key. */
  y?: string;
}

/** `--type` values: the raw key, and age's two key types under their names and short names. */
const KEY_TYPES: Record<string, 'raw' | PublicKeyType> = {
  raw: 'raw',
  x25519: 'x25519',
  pq: 'mlkem768x25519',
  mlkem768x25519: 'mlkem768x25519',
};

/** Runs `keygen`. */
export async function keygen(flags: KeygenFlags, reporter: Reporter): Promise<void> {
  if (flags.y !== undefined) {
    if (flags.type !== undefined || flags.out !== undefined)
      throw usage('keygen -y prints public keys: drop --type and --out');
    await printPublicKeys(flags.y, reporter);
    return;
  }
  const type = KEY_TYPES[flags.type ?? 'raw'];
  if (type === undefined) {
    throw usage(`--type expected raw, x25519 or pq (ML-KEM-768 + X25519), got ${flags.type}`);
  }
  let text: string;
  let id: string;
  let publicKey: string | undefined;
  if (type === 'raw') {
    const key = generateKey();
    id = keyId(key);
    text = `${formatKey(key)}\n`;
  } else {
    const key = generatePrivateKey(type);
    id = key.keyId;
    publicKey = key.recipient.toString();
    text = formatPrivateKeyFile(key);
  }
  const facts = { command: 'keygen', type, keyId: id, ...(publicKey ? { publicKey } : {}) };
  if (flags.out === undefined || flags.out === '-') {
    if (reporter.json) throw usage('--json output never carries keys: use keygen --out FILE --json');
    reporter.dataOnStdout = true;
    // a key printed to a closed stdout would be lost while the run reports it made
    refuseClosedStdout();
    await writeStdout(text);
    warnIfStdoutReadable(reporter);
    reporter.info(publicKey ? `Public key: ${publicKey}` : `key ID ${id}`);
    return;
  }
  await writeKeyFile(flags.out, text, flags.force === true);
  if (publicKey) reporter.info(`private key written to ${flags.out} (key ID ${id})`);
  reporter.result(
    { ...facts, file: flags.out },
    publicKey ? `Public key: ${publicKey}` : `key ID ${id} written to ${flags.out}`,
  );
}

/**
 * Warns when stdout is a file that other users can read: `keygen > my.key` under the usual umask
 * makes a 0644 file, which `-o` never does (age-keygen warns the same way). The key is written all
 * the same: the shell made the file, and its mode is the user's to change.
 */
function warnIfStdoutReadable(reporter: Reporter): void {
  let info: Stats;
  try {
    info = fstatSync(1);
  } catch {
    return;
  }
  if (info.isFile() && (info.mode & 0o044) !== 0) {
    reporter.warn(
      `the key went to a file that other users can read (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}): \`chmod 600\` it, or write keys with -o FILE (mode 0600)`,
    );
  }
}

/**
 * Writes a key file: a temporary file of mode 0600 from its first byte, moved into place whole, so
 * another user never sees the key, not even while an existing file (of whatever mode) is replaced.
 */
async function writeKeyFile(path: string, text: string, replace: boolean): Promise<void> {
  const file = await pendingFile(path, { mode: 0o600, replace });
  try {
    await pipeline(Readable.from([Buffer.from(text)]), file.stream);
    await file.commit();
  } catch (cause) {
    await file.discard();
    if ((cause as { code?: string }).code === 'EEXIST')
      throw usage(`${path} exists; not overwriting a key file`, 'pass --force to replace it');
    throw cause instanceof CliError
      ? cause
      : new CliError(EXIT.ERROR, `cannot create ${path}: ${(cause as { code?: string }).code}`, {
          cause,
        });
  }
}

/** `keygen -y FILE`: the public key of each private key in FILE, one per line (age-keygen -y's output). */
async function printPublicKeys(path: string, reporter: Reporter): Promise<void> {
  const keys = await readKeyFile(path, 'keygen -y');
  const publicKeys = keys.map((key, i) => {
    if (key instanceof PrivateKey) return key.recipient.toString();
    throw new CliError(
      EXIT.KEY,
      key instanceof Uint8Array
        ? `keygen -y ${path}: key ${i + 1} is a raw (symmetric) key, which has no public key; \`sealstream key-id ${path}\` prints its key ID`
        : `keygen -y ${path}: key ${i + 1} is already a public key`,
    );
  });
  if (reporter.json) {
    reporter.answer(
      {
        command: 'keygen',
        file: path,
        publicKeys: (keys as PrivateKey[]).map((k, i) => ({
          type: k.type,
          keyId: k.keyId,
          publicKey: publicKeys[i],
        })),
      },
      '',
    );
    return;
  }
  reporter.answer({}, publicKeys.join('\n'));
}

/** Runs `key-id FILE...`: the key ID and type of every key in the files. */
export async function keyIdCommand(files: string[], reporter: Reporter): Promise<void> {
  const keys: { file: string; type: string; keyId: string; publicKey: string | null }[] = [];
  for (const file of files) {
    for (const key of await readKeyFile(file, 'key-id')) {
      const { keyId: id } = describeKey(key);
      if (key instanceof Uint8Array) keys.push({ file, type: 'raw', keyId: id, publicKey: null });
      else {
        const pub = key instanceof PrivateKey ? key.recipient : key;
        keys.push({ file, type: key.type, keyId: id, publicKey: pub.toString() });
      }
    }
  }
  reporter.answer(
    { command: 'key-id', keys },
    keys.map((k) => `${k.keyId}  ${k.type === 'raw' ? 'raw key' : `${k.type} key`}  ${k.file}`).join('\n'),
  );
}
