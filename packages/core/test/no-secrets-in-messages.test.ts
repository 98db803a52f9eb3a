/**
 * No error names a secret: keys (as text or bytes), age private keys and passphrases given wrongly
 * or failing to open an object never appear, whole or in part, in a message, a stack or a cause.
 */
import { describe, expect, test } from 'vitest';
import {
  decrypt,
  decryptStream,
  encrypt,
  formatKey,
  generateKey,
  generatePrivateKey,
  Keyring,
  parseKey,
  parsePrivateKey,
  parsePrivateKeysFile,
  parseRecipient,
} from '../src/index.ts';
import { pattern } from './helpers.ts';

const raw = generateKey();
const b64 = formatKey(raw);
const hexKey = Buffer.from(raw).toString('hex');
const age = generatePrivateKey().secretText();
const passphrase = 'hunter2-correct-horse-battery';

/** Every run of 8 characters of each secret, in either case: none may appear in what an error says. */
const fragments = [b64, hexKey, age, passphrase].flatMap((secret) => {
  const out: string[] = [];
  for (let i = 0; i + 8 <= secret.length; i++) out.push(secret.slice(i, i + 8).toLowerCase());
  return out;
});

/** The text of an error and of its causes: messages, stacks, names. */
function said(err: unknown, depth = 0): string {
  if (!(err instanceof Error) || depth > 5) return String(err);
  return [err.name, err.message, err.stack ?? '', said(err.cause, depth + 1)].join('\n');
}

async function failure(work: () => unknown, name = 'this'): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error(`expected a failure: ${name}`);
}

/** Runs bytes through a decryptStream to the end (it rejects with the stream's error). */
function throughStream(sealed: Uint8Array, options: Parameters<typeof decryptStream>[0]): Promise<void> {
  return new Blob([sealed]).stream().pipeThrough(decryptStream(options)).pipeTo(new WritableStream());
}

describe('errors never carry a secret', () => {
  test('keys and passphrases given wrongly, or that do not open an object', async () => {
    const sealed = await encrypt(pattern(50_000), {
      recipients: [raw, { passphrase, workFactor: 10 }, generatePrivateKey().recipient],
    });
    const toHigh = await encrypt(pattern(10), { recipients: [{ passphrase, workFactor: 16 }] });
    const changed = (s: string) => `${s.slice(0, -3)}${s.at(-3) === 'A' ? 'B' : 'A'}${s.slice(-2)}`;
    const cases: [string, () => unknown][] = [
      ['parseKey with a character outside base64', () => parseKey(`${b64.slice(0, 10)}*${b64.slice(11)}`)],
      ['parseKey with a character too many', () => parseKey(`${b64}A`)],
      ['parseKey of hex with a character too few', () => parseKey(hexKey.slice(1))],
      ['parseKey with a space inside', () => parseKey(`${b64.slice(0, 20)} ${b64.slice(20)}`)],
      ['a key file read as bytes', () => decrypt(sealed, { keys: [new TextEncoder().encode(`${b64}\n`)] })],
      ['the age key with a changed character', () => parsePrivateKey(changed(age))],
      [
        'the age key in lower case mixed',
        () => parsePrivateKey(`${age.slice(0, 30)}${age.slice(30).toLowerCase()}`),
      ],
      ['the age key as a recipient', () => parseRecipient(age)],
      ['the raw key as a recipient', () => parseRecipient(b64)],
      ['a keys file with a bad line', () => parsePrivateKeysFile(`# comment\n${changed(age)}\n`)],
      ['the age key cut short, as a key', () => decrypt(sealed, { keys: [age.slice(0, -1)] })],
      ['the raw key as a passphrase-less object', () => decrypt(sealed, { keys: [{ key: `${b64}!` }] })],
      ['a wrong passphrase', () => decrypt(sealed, { keys: [{ passphrase: `${passphrase}x` }] })],
      [
        'a passphrase above the work limit',
        () => decrypt(toHigh, { keys: [{ passphrase }], maxWorkFactor: 15 }),
      ],
      [
        'a passphrase with a bad work factor',
        () => encrypt(pattern(1), { recipients: [{ passphrase, workFactor: 99 }] }),
      ],
      [
        'a keyring of the wrong keys',
        () => decrypt(sealed, { keys: new Keyring([generateKey(), { passphrase: 'other' }]) }),
      ],
      ['the wrong identity', () => decrypt(sealed, { keys: [raw], identity: 'b/k' })],
      [
        'the stream with a wrong passphrase',
        () => throughStream(sealed, { keys: [{ passphrase: `${passphrase}y` }] }),
      ],
      [
        'the stream with a bad key',
        () => throughStream(sealed, { keys: [`${b64.slice(0, 10)}*${b64.slice(11)}`] }),
      ],
    ];
    for (const [name, work] of cases) {
      const text = said(await failure(work, name)).toLowerCase();
      const leaked = fragments.filter((f) => text.includes(f));
      expect(leaked, `${name}: ${text.split('\n')[1]}`).toEqual([]);
    }
  }, 60_000);
});
