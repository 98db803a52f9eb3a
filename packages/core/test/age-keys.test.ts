/** age's key text (SPEC §5.6): bech32, one key, recipients and private key files, and `age-keygen` itself. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { _bech32EncodeWords, bech32Decode, bech32Encode } from '../src/bech32.ts';
import {
  decrypt,
  encrypt,
  formatKey,
  formatPrivateKeyFile,
  formatRecipientsFile,
  generateKey,
  generatePrivateKey,
  keyId,
  PrivateKey,
  PublicKeyRecipient,
  parseAgeKeyText,
  parsePrivateKey,
  parsePrivateKeysFile,
  parseRecipient,
  parseRecipientsFile,
} from '../src/index.ts';
import { pattern } from './helpers.ts';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return undefined;
};
const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a throw');
};

describe('bech32', () => {
  test('encode and decode are inverse, in either case, with no length limit', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 1300 }),
        fc.constantFrom('age', 'age1pq', 'AGE-SECRET-KEY-', 'x'),
        (data, hrp) => {
          const text = bech32Encode(hrp, data);
          const decoded = bech32Decode(text);
          expect(decoded.hrp).toBe(hrp);
          expect(decoded.data).toEqual(data);
          expect(text === text.toLowerCase() || text === text.toUpperCase()).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('any one changed character is caught by the checksum', () => {
    const text = bech32Encode('age', pattern(32, 3));
    const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    for (let i = 4; i < text.length; i++) {
      const other = alphabet[(alphabet.indexOf(text[i]!) + 1 + (i % 31)) % 32]!;
      const typo = text.slice(0, i) + other + text.slice(i + 1);
      expect(() => bech32Decode(typo), `position ${i}`).toThrow(/checksum/);
    }
  });

  test('mixed case, no separator, foreign characters and non-zero padding are refused', () => {
    const text = bech32Encode('age', pattern(32, 4));
    expect(() => bech32Decode(text.slice(0, 10) + text.slice(10).toUpperCase())).toThrow(
      /mixes upper and lower/,
    );
    expect(() => bech32Decode('agexyzxyzxyz')).toThrow(/separator/);
    expect(() => bech32Decode('age1qqqqb')).toThrow(/separator/); // too short for a checksum
    expect(() => bech32Decode(`${text.slice(0, 10)}b${text.slice(11)}`)).toThrow(/alphabet/);
    // 32 bytes are 52 words with 4 spare bits: set one of them.
    const words = wordsOf(text);
    words[51] = words[51]! | 1;
    expect(() => bech32Decode(_bech32EncodeWords('age', words))).toThrow(/padding/);
    expect(() => bech32Decode(_bech32EncodeWords('age', [...wordsOf(text), 0, 0]))).toThrow(/padding/);
  });
});

function wordsOf(text: string): number[] {
  const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const body = text.slice(text.lastIndexOf('1') + 1, -6);
  return [...body].map((c) => alphabet.indexOf(c));
}

describe('one key', () => {
  test('a generated key pair prints and parses back, both types', () => {
    for (const type of ['x25519', 'mlkem768x25519'] as const) {
      const key = generatePrivateKey(type);
      const text = key.secretText();
      expect(text).toMatch(
        type === 'x25519' ? /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/ : /^AGE-SECRET-KEY-PQ-1[0-9A-Z]{58}$/,
      );
      const again = parsePrivateKey(`  ${text}\n`);
      expect(again.sameSecret(key)).toBe(true);
      expect(again.keyId).toBe(key.keyId);
      const pub = key.recipient.toString();
      expect(pub).toMatch(type === 'x25519' ? /^age1[0-9a-z]{58}$/ : /^age1pq1[0-9a-z]{1952}$/);
      expect(parseRecipient(pub).equals(key.recipient)).toBe(true);
      expect(parseRecipient(pub).keyId).toBe(key.keyId);
      expect(key.keyId).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  test('text of another kind is refused with a reason', () => {
    expect(messageOf(() => parseRecipient('ssh-ed25519 AAAAC3Nza... me@host'))).toMatch(
      /SSH keys are not supported/,
    );
    expect(messageOf(() => parseRecipient(bech32Encode('age1yubikey', pattern(33))))).toMatch(
      /plugin recipient/,
    );
    expect(code(() => parseRecipient(bech32Encode('age', pattern(32)).toUpperCase()))).toBe('INVALID_KEY');
    // upper case (as a QR code carries it) is refused as age refuses it, saying why
    expect(messageOf(() => parseRecipient(bech32Encode('age', pattern(32)).toUpperCase()))).toMatch(
      /in upper case: write it in lower case/,
    );
    expect(messageOf(() => parseRecipient(bech32Encode('age', pattern(31))))).toMatch(/31 bytes, not 32/);
    expect(messageOf(() => parseRecipient(bech32Encode('age1pq', pattern(32))))).toMatch(
      /32 bytes, not 1216/,
    );
    expect(messageOf(() => parsePrivateKey('AGE-PLUGIN-YUBIKEY-1QQQQQQ'))).toMatch(/plugin identity/);
    expect(messageOf(() => parsePrivateKey(bech32Encode('age', pattern(32))))).toMatch(/not a private key/);
    expect(messageOf(() => parsePrivateKey(bech32Encode('AGE-SECRET-KEY-', pattern(16))))).toMatch(
      /16 bytes, not 32/,
    );
    expect(code(() => parsePrivateKey(42 as unknown as string))).toBe('INVALID_KEY');
  });

  test('a typo in a private key is reported without repeating the key', () => {
    const text = generatePrivateKey().secretText();
    const typo = `${text.slice(0, 30)}${text[30] === 'Q' ? 'P' : 'Q'}${text.slice(31)}`;
    const message = messageOf(() => parsePrivateKey(typo));
    expect(message).toMatch(/checksum/);
    for (let i = 16; i + 8 <= text.length; i += 4) expect(message).not.toContain(text.slice(i, i + 8));
    expect(String(parsePrivateKey(text))).not.toContain(text.slice(16, 30));
    expect(`${parsePrivateKey(text)}`).toMatch(/^\[x25519 private key [0-9a-f]{16}\]$/);
  });

  test('public keys that cannot be sealed to are refused: small order, non-canonical, ML-KEM out of range', () => {
    expect(messageOf(() => new PublicKeyRecipient('x25519', new Uint8Array(32)))).toMatch(/small order/);
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(messageOf(() => new PublicKeyRecipient('x25519', one))).toMatch(/small order/);
    const good = generatePrivateKey().recipient.publicKey;
    const high = good.slice();
    high[31]! |= 0x80; // the same point for RFC 7748, but a second encoding: another key ID
    expect(messageOf(() => new PublicKeyRecipient('x25519', high))).toMatch(/canonical/);
    const pq = generatePrivateKey('mlkem768x25519').recipient.publicKey;
    const overflow = pq.slice();
    overflow[0] = 0xff;
    overflow[1]! |= 0x0f; // first coefficient 4095 > q
    expect(messageOf(() => new PublicKeyRecipient('mlkem768x25519', overflow))).toMatch(/out of range/);
    const lowOrderPart = pq.slice();
    lowOrderPart.fill(0, 1184);
    expect(messageOf(() => new PublicKeyRecipient('mlkem768x25519', lowOrderPart))).toMatch(
      /X25519 part.*small order/,
    );
    expect(code(() => new PublicKeyRecipient('x25519', new Uint8Array(31)))).toBe('INVALID_KEY');
    expect(code(() => new PrivateKey('mlkem768x25519', new Uint8Array(64)))).toBe('INVALID_KEY');
    expect(code(() => new PrivateKey('rsa' as 'x25519', new Uint8Array(32)))).toBe('INVALID_ARGUMENT');
    expect(code(() => generatePrivateKey('rsa' as 'x25519'))).toBe('INVALID_ARGUMENT');
  });

  test('raw key text and age key text are never mistaken for each other', () => {
    // A raw key whose base64 happens to start with "age1" (0x6a 0x07 0xb5 ...) stays a raw key.
    const raw = new Uint8Array(32);
    raw.set([0x6a, 0x07, 0xb5], 0);
    const text = Buffer.from(raw).toString('base64');
    expect(text.startsWith('age1')).toBe(true);
    expect(parseAgeKeyText(text)).toBeUndefined();
    expect(parseAgeKeyText(text.replace(/=$/, ''))).toBeUndefined();
    const pub = generatePrivateKey().recipient.toString();
    expect(parseAgeKeyText(pub)).toBeInstanceOf(PublicKeyRecipient);
    expect(parseAgeKeyText(generatePrivateKey().secretText())).toBeInstanceOf(PrivateKey);
    expect(parseAgeKeyText(Buffer.from(pattern(32)).toString('hex'))).toBeUndefined();
  });

  test('keys given as text to encrypt and decrypt', async () => {
    const key = generatePrivateKey();
    const raw = new Uint8Array(32);
    raw.set([0x6a, 0x07, 0xb5], 0);
    const rawText = Buffer.from(raw).toString('base64');
    const sealed = await encrypt(pattern(100), { recipients: [key.recipient.toString(), rawText] });
    expect(await decrypt(sealed, { keys: key.secretText() })).toEqual(pattern(100));
    expect(await decrypt(sealed, { keys: rawText })).toEqual(pattern(100));
    const opened = decrypt(sealed, { keys: key.recipient.toString() });
    await expect(opened).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: /public key is not a private key/,
    });
    expect(keyId(raw)).toBe(keyId(rawText));
  });
});

describe('files', () => {
  const a = generatePrivateKey();
  const b = generatePrivateKey('mlkem768x25519');

  test('recipients file: comments, blank lines, CRLF and surrounding whitespace', () => {
    const text = `# team\r\n\r\n  ${a.recipient}  \r\n# the hybrid one\n\t${b.recipient}\n\n`;
    const recipients = parseRecipientsFile(text);
    expect(recipients.map((r) => r.keyId)).toEqual([a.keyId, b.keyId]);
    expect(formatRecipientsFile(recipients)).toBe(`${a.recipient}\n${b.recipient}\n`);
  });

  test('a private key file given as a recipients file: refused without repeating any of the key', () => {
    for (const key of [a, b]) {
      const message = messageOf(() => parseRecipientsFile(formatPrivateKeyFile(key)));
      expect(message).toMatch(/line 3: .*private key, not a public key/);
      expect(message).not.toContain(key.secretText().slice(0, 20));
    }
  });

  test('a secret where a public key belongs is never repeated, not a character of it', () => {
    const raw = generateKey();
    const secrets = [
      a.secretText().toLowerCase(), // bech32 in lower case is the same key
      b.secretText().toLowerCase(),
      formatKey(raw),
      Buffer.from(raw).toString('hex'),
      'AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
      'correct horse battery staple', // a passphrase
    ];
    for (const secret of secrets) {
      for (const parse of [() => parseRecipient(secret), () => parseRecipientsFile(`# x\n${secret}\n`)]) {
        const message = messageOf(parse);
        expect(message, secret).toMatch(/not a public key/);
        // the part after any fixed prefix: a secret's own characters
        const own = secret.replace(/^(age-secret-key-(pq-)?1|AGE-PLUGIN-)/i, '');
        expect(message, secret).not.toContain(own.slice(0, 4));
      }
    }
    expect(messageOf(() => parseRecipient(formatKey(raw)))).toMatch(/a raw key \(a secret\)/);
    // what is public is still shown, to find the typo
    expect(messageOf(() => parseRecipient('age1nope'))).toContain('"age1nope"');
  });

  test('recipients file errors name the line', () => {
    expect(messageOf(() => parseRecipientsFile(`# x\n${a.recipient}\nage1nope\n`))).toMatch(
      /^recipients file, line 3: invalid key: /,
    );
    expect(code(() => parseRecipientsFile('# nothing here\n\n'))).toBe('INVALID_KEY');
    expect(messageOf(() => parseRecipientsFile(''))).toMatch(/holds no public key/);
  });

  test('private key file as age-keygen writes it, and back to a recipients file (age-keygen -y)', () => {
    const file = formatPrivateKeyFile(a, new Date('2026-01-02T03:04:05.678Z'));
    expect(file).toBe(`# created: 2026-01-02T03:04:05Z\n# public key: ${a.recipient}\n${a.secretText()}\n`);
    const both = `${file}\n${formatPrivateKeyFile(b)}`;
    const keys = parsePrivateKeysFile(both);
    expect(keys.map((k) => k.keyId)).toEqual([a.keyId, b.keyId]);
    expect(formatRecipientsFile(keys)).toBe(`${a.recipient}\n${b.recipient}\n`);
  });

  test('private key file errors: line numbers without the secret, encrypted files, no key', () => {
    const secret = a.secretText();
    const broken = `# created: now\n${secret}\n${secret.slice(0, -1)}\n`;
    const message = messageOf(() => parsePrivateKeysFile(broken));
    expect(message).toMatch(/^private key file, line 3: invalid key: .*checksum/);
    expect(message).not.toContain(secret.slice(16, 40));
    expect(messageOf(() => parsePrivateKeysFile('age-encryption.org/v1\n-> scrypt abc 18\n'))).toMatch(
      /encrypted with age/,
    );
    expect(messageOf(() => parsePrivateKeysFile('-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n'))).toMatch(
      /encrypted with age/,
    );
    expect(messageOf(() => parsePrivateKeysFile('# only comments\n'))).toMatch(/holds no private key/);
    expect(messageOf(() => parsePrivateKeysFile(`${a.recipient}\n`))).toMatch(/line 1: .*not a private key/);
  });
});

/** Debian's `age` (CI installs it); outside CI the interop tests skip with this reason when it is missing. */
const AGE_MISSING = !existsSync('/usr/bin/age-keygen') || !existsSync('/usr/bin/age');
if (AGE_MISSING && process.env.CI) {
  throw new Error('age and age-keygen must be installed in CI (.ci/run installs Debian\'s "age")');
}

describe.skipIf(AGE_MISSING)('interop with age (Debian package)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealstream-age-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (cmd: string, args: string[], input?: string) =>
    execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

  test('a key from age-keygen: its file parses, and our recipient is the one age-keygen and -y print', () => {
    const file = join(dir, 'key.txt');
    run('age-keygen', ['-o', file]);
    const text = readFileSync(file, 'utf8');
    const [key] = parsePrivateKeysFile(text);
    const printed = /^# public key: (age1[0-9a-z]+)$/m.exec(text)![1]!;
    expect(key!.recipient.toString()).toBe(printed);
    expect(formatRecipientsFile([key!])).toBe(run('age-keygen', ['-y', file]));
    expect(parseRecipientsFile(run('age-keygen', ['-y', file]))[0]!.equals(key!.recipient)).toBe(true);
  });

  test('a key we generate is a key age uses: age-keygen -y reads it, age encrypts to it and decrypts with it', () => {
    const ours = generatePrivateKey();
    const file = join(dir, 'ours.txt');
    writeFileSync(file, formatPrivateKeyFile(ours), { mode: 0o600 });
    expect(run('age-keygen', ['-y', file])).toBe(`${ours.recipient}\n`);
    const sealed = join(dir, 'msg.age');
    run('age', ['-r', ours.recipient.toString(), '-o', sealed], 'interop');
    expect(run('age', ['-d', '-i', file, sealed])).toBe('interop');
  });

  test('an object sealed to an age-keygen recipient opens with the age-keygen private key file', async () => {
    const file = join(dir, 'key2.txt');
    run('age-keygen', ['-o', file]);
    const recipients = parseRecipientsFile(run('age-keygen', ['-y', file]));
    const plaintext = pattern(40_000, 9);
    const sealed = await encrypt(plaintext, { recipients });
    expect(await decrypt(sealed, { keys: parsePrivateKeysFile(readFileSync(file, 'utf8')) })).toEqual(
      plaintext,
    );
  });
});
