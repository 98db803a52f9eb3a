/**
 * Generates the sealstream v1 known-answer vectors (SPEC §11) from deterministic randomness.
 * Each vector states its intended outcome; the tests check the implementation against it.
 *
 *   pnpm vectors           rewrite test/vectors/sealstream-v1.json
 *   pnpm vectors --check   fail if the checked-in file differs from a fresh generation
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { resolveBackend } from '../src/aead/backend.ts';
import { concat, readU32, toHex, utf8, writeU32 } from '../src/bytes.ts';
import { encodeRecipientsBlock, parseHeader } from '../src/header.ts';
import { type EncryptOptions, encrypt, PrivateKey, type Recipient, readHeaderLength } from '../src/index.ts';
import { encodeCanonical, type MsgValue } from '../src/msgpack.ts';
import { type OpenedPayload, openPayload } from '../src/open.ts';
import { CHUNK_SIZE, PAYLOAD_PREFIX_LENGTH, SEALED_CHUNK_SIZE } from '../src/sizes.ts';

const OUT = new URL('../test/vectors/sealstream-v1.json', import.meta.url);

/** A deterministic byte source: SHA-256 of (label, counter). Never use outside vectors. */
function drbg(label: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = sha256(
        concat(utf8(label), new Uint8Array([counter >>> 24, counter >>> 16, counter >>> 8, counter])),
      );
      counter++;
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

export interface Vector {
  name: string;
  description: string;
  /** Raw keys to try, hex. */
  keys: string[];
  passphrases: string[];
  /** Raw keys to try, as text the reader must parse (SPEC §3.1); absent: none. */
  keyTexts?: string[];
  /** Private keys to try, in age's text (SPEC §5.6); only in the `pk/` vectors. */
  privateKeys?: string[];
  identity?: string;
  maxWorkFactor?: number;
  maxTotalWorkFactor?: number;
  /** The whole encrypted object, hex. */
  file: string;
  /** `success` or an error code of SPEC §9. */
  expect: string;
  /** On success: the plaintext's length and SHA-256. */
  plaintext?: { length: number; sha256: string };
  /**
   * The most plaintext a streaming reader may release before a failure: the leading full chunks that
   * authenticate (SPEC §6.3). Length and SHA-256.
   */
  released?: { length: number; sha256: string };
}

const KEY_A = drbg('key A')(32);
const KEY_B = drbg('key B')(32);
const PASSPHRASE = 'correct horse battery staple';

async function seal(label: string, plaintext: Uint8Array, options: Omit<EncryptOptions, '_random'>) {
  return encrypt(plaintext, { ...options, backend: 'noble', _random: drbg(label) });
}

/** Leading full chunks that authenticate, as a maximal streaming reader would release them. */
async function releasable(
  file: Uint8Array,
  keys: Recipient[],
  passphrases: string[],
  identity: string | undefined,
  limits: { maxWorkFactor?: number; maxTotalWorkFactor?: number },
): Promise<Uint8Array> {
  let opened: OpenedPayload;
  try {
    opened = await openPayload(file, {
      keys: [...keys, ...passphrases.map((passphrase) => ({ passphrase }))],
      identity,
      backend: 'noble',
      maxWorkFactor: limits.maxWorkFactor,
      maxTotalWorkFactor: limits.maxTotalWorkFactor,
    });
  } catch {
    return new Uint8Array(0);
  }
  const start = opened.info.headerLength + PAYLOAD_PREFIX_LENGTH;
  const parts: Uint8Array[] = [];
  for (let k = 0; start + (k + 1) * SEALED_CHUNK_SIZE <= file.length; k++) {
    const sealed = file.subarray(start + k * SEALED_CHUNK_SIZE, start + (k + 1) * SEALED_CHUNK_SIZE);
    const out = new Uint8Array(CHUNK_SIZE);
    if ((await opened.cipher.open(k, sealed, out, false)).ok !== 1) break;
    parts.push(out);
  }
  return concat(...parts);
}

function digest(bytes: Uint8Array): { length: number; sha256: string } {
  return { length: bytes.length, sha256: toHex(sha256(bytes)) };
}

function flip(file: Uint8Array, offset: number): Uint8Array {
  const copy = file.slice();
  copy[offset]! ^= 0x01;
  return copy;
}

/** One case as the builders give it: bytes and key objects; hex and digests are computed by `add`. */
export type CaseInput = Omit<
  Vector,
  'file' | 'released' | 'keys' | 'plaintext' | 'privateKeys' | 'keyTexts'
> & {
  keyTexts?: string[];
  file: Uint8Array;
  keys?: Uint8Array[];
  privateKeys?: PrivateKey[];
  plaintext?: Uint8Array;
};

async function build(): Promise<Vector[]> {
  const vectors: Vector[] = [];
  const add = async (v: CaseInput) => {
    const keys = v.keys ?? [KEY_A];
    const released =
      v.expect === 'success'
        ? undefined
        : await releasable(
            v.file,
            [...keys, ...(v.keyTexts ?? []), ...(v.privateKeys ?? [])],
            v.passphrases,
            v.identity,
            v,
          );
    vectors.push({
      name: v.name,
      description: v.description,
      keys: keys.map(toHex),
      ...(v.keyTexts === undefined ? {} : { keyTexts: v.keyTexts }),
      passphrases: v.passphrases,
      ...(v.privateKeys === undefined ? {} : { privateKeys: v.privateKeys.map((k) => k.secretText()) }),
      ...(v.identity === undefined ? {} : { identity: v.identity }),
      ...(v.maxWorkFactor === undefined ? {} : { maxWorkFactor: v.maxWorkFactor }),
      ...(v.maxTotalWorkFactor === undefined ? {} : { maxTotalWorkFactor: v.maxTotalWorkFactor }),
      file: toHex(v.file),
      expect: v.expect,
      ...(v.plaintext === undefined ? {} : { plaintext: digest(v.plaintext) }),
      ...(released === undefined ? {} : { released: digest(released) }),
    });
  };

  // Success cases over the chunk boundaries (SPEC §6.3).
  const lengths = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE + 100];
  for (const n of lengths) {
    const plaintext = drbg(`plaintext ${n}`)(n);
    const file = await seal(`seal ${n}`, plaintext, { recipients: [KEY_A] });
    await add({
      name: `ok/length-${n}`,
      description: `${n}-byte plaintext, one raw key`,
      file,
      passphrases: [],
      expect: 'success',
      plaintext,
    });
  }
  const plaintext = drbg('plaintext multi')(2 * CHUNK_SIZE + 100);
  const multi = await seal('multi', plaintext, { recipients: [KEY_A] });
  const twoRecipients = await seal('two recipients', plaintext.subarray(0, 1000), {
    recipients: [KEY_B, { passphrase: PASSPHRASE, workFactor: 10 }],
  });
  await add({
    name: 'ok/second-key',
    description: 'two recipients, opened by the raw key',
    keys: [KEY_B],
    file: twoRecipients,
    passphrases: [],
    expect: 'success',
    plaintext: plaintext.subarray(0, 1000),
  });
  await add({
    name: 'ok/passphrase',
    description: 'two recipients, opened by the passphrase (logN 10)',
    keys: [],
    file: twoRecipients,
    passphrases: [PASSPHRASE],
    expect: 'success',
    plaintext: plaintext.subarray(0, 1000),
  });
  const bound = await seal('bound', plaintext.subarray(0, 500), {
    recipients: [KEY_A],
    identity: 'bucket/photos/cat.jpg',
  });
  await add({
    name: 'ok/identity',
    description: 'bound to an identity, read with that identity',
    file: bound,
    passphrases: [],
    identity: 'bucket/photos/cat.jpg',
    expect: 'success',
    plaintext: plaintext.subarray(0, 500),
  });
  await add({
    name: 'ok/identity-not-checked',
    description: 'bound to an identity, read without an expected identity',
    file: bound,
    passphrases: [],
    expect: 'success',
    plaintext: plaintext.subarray(0, 500),
  });

  // Keys and recipients (SPEC §5).
  await add({
    name: 'key/wrong-key',
    description: 'a key the object is not sealed to',
    keys: [KEY_B],
    file: multi,
    passphrases: [],
    expect: 'NO_MATCHING_KEY',
  });
  await add({
    name: 'key/wrong-passphrase',
    description: 'a wrong passphrase',
    keys: [],
    file: twoRecipients,
    passphrases: ['wrong'],
    expect: 'NO_MATCHING_KEY',
  });
  const h = readHeaderLength(multi)!;
  const other = await seal('other object', plaintext, { recipients: [KEY_A] });
  const swapped = concat(other.subarray(0, readHeaderLength(other)!), multi.subarray(h));
  await add({
    name: 'key/swapped-stanza',
    description: "another object's header (same key) on this payload",
    file: swapped,
    passphrases: [],
    expect: 'COMMITMENT_MISMATCH',
  });
  await add({
    name: 'key/wrap-flipped',
    description: 'a bit flipped in the wrapped key',
    file: flip(multi, h - 1),
    passphrases: [],
    expect: 'NO_MATCHING_KEY',
  });
  await add({
    name: 'key/identity-mismatch',
    description: 'expected identity differs',
    file: bound,
    passphrases: [],
    identity: 'bucket/photos/dog.jpg',
    expect: 'IDENTITY_MISMATCH',
  });
  await add({
    name: 'key/identity-missing',
    description: 'expected identity, object not bound',
    file: multi,
    passphrases: [],
    identity: 'bucket/x',
    expect: 'IDENTITY_MISMATCH',
  });

  // Header (SPEC §4).
  await add({
    name: 'header/bad-magic',
    description: 'first byte changed',
    file: flip(multi, 0),
    passphrases: [],
    expect: 'HEADER_INVALID',
  });
  const v2 = multi.slice();
  v2[10] = 2;
  await add({
    name: 'header/version-2',
    description: 'version byte 2',
    file: v2,
    passphrases: [],
    expect: 'UNSUPPORTED_VERSION',
  });
  const huge = multi.slice();
  writeU32(huge, 11, 0xffffffff);
  await add({
    name: 'header/huge-content-length',
    description: 'content header length 2^32-1',
    file: huge,
    passphrases: [],
    expect: 'HEADER_TOO_LARGE',
  });
  const hugeR = multi.slice();
  writeU32(hugeR, 15 + readU32(multi, 11), 1 << 30);
  await add({
    name: 'header/huge-recipients-length',
    description: 'recipients block length 2^30',
    file: hugeR,
    passphrases: [],
    expect: 'HEADER_TOO_LARGE',
  });
  await add({
    name: 'header/commitment-flipped',
    description: 'a bit flipped in the commitment',
    file: flip(multi, h + 24),
    passphrases: [],
    expect: 'COMMITMENT_MISMATCH',
  });
  await add({
    name: 'header/salt-flipped',
    description: 'a bit flipped in the salt',
    file: flip(multi, h),
    passphrases: [],
    expect: 'COMMITMENT_MISMATCH',
  });
  // The identity is in the context: changing one letter keeps the header valid but breaks the commitment.
  const renamed = bound.slice();
  const at = Buffer.from(bound).indexOf('cat.jpg');
  renamed[at] = 'b'.charCodeAt(0);
  await add({
    name: 'header/identity-edited',
    description: 'identity rewritten in place (cat -> bat)',
    file: renamed,
    passphrases: [],
    expect: 'COMMITMENT_MISMATCH',
  });
  await add({
    name: 'header/truncated-inside',
    description: 'ends inside the header',
    file: multi.subarray(0, h - 5),
    passphrases: [],
    expect: 'TRUNCATED',
  });
  await add({
    name: 'header/truncated-before-commitment',
    description: 'ends inside the salt and commitment',
    file: multi.subarray(0, h + 40),
    passphrases: [],
    expect: 'TRUNCATED',
  });
  await add({
    name: 'header/empty',
    description: 'no bytes at all',
    file: new Uint8Array(0),
    passphrases: [],
    expect: 'TRUNCATED',
  });

  // Payload (SPEC §6.3).
  const p = h + PAYLOAD_PREFIX_LENGTH;
  const c = (k: number) => multi.subarray(p + k * SEALED_CHUNK_SIZE, p + (k + 1) * SEALED_CHUNK_SIZE);
  await add({
    name: 'payload/chunk-1-flipped',
    description: 'a bit flipped in chunk 1 of 3',
    file: flip(multi, p + SEALED_CHUNK_SIZE + 7),
    passphrases: [],
    expect: 'CHUNK_AUTH_FAILED',
  });
  await add({
    name: 'payload/final-flipped',
    description: 'a bit flipped in the final chunk tag',
    file: flip(multi, multi.length - 1),
    passphrases: [],
    expect: 'CHUNK_AUTH_FAILED',
  });
  await add({
    name: 'payload/swapped-chunks',
    description: 'chunks 0 and 1 swapped',
    file: concat(multi.subarray(0, p), c(1), c(0), multi.subarray(p + 2 * SEALED_CHUNK_SIZE)),
    passphrases: [],
    expect: 'CHUNK_AUTH_FAILED',
  });
  await add({
    name: 'payload/duplicated-chunk',
    description: 'chunk 0 twice, then the rest',
    file: concat(multi.subarray(0, p), c(0), multi.subarray(p)),
    passphrases: [],
    expect: 'CHUNK_AUTH_FAILED',
  });
  await add({
    name: 'payload/dropped-chunk',
    description: 'chunk 1 removed',
    file: concat(multi.subarray(0, p), c(0), multi.subarray(p + 2 * SEALED_CHUNK_SIZE)),
    passphrases: [],
    expect: 'CHUNK_AUTH_FAILED',
  });
  await add({
    name: 'payload/truncated-at-boundary',
    description: 'ends after chunk 1 (no final chunk)',
    file: multi.subarray(0, p + 2 * SEALED_CHUNK_SIZE),
    passphrases: [],
    expect: 'TRUNCATED',
  });
  await add({
    name: 'payload/truncated-no-chunks',
    description: 'ends right after the commitment',
    file: multi.subarray(0, p),
    passphrases: [],
    expect: 'TRUNCATED',
  });
  await add({
    name: 'payload/truncated-in-tag',
    description: 'final chunk cut to 10 bytes',
    file: multi.subarray(0, p + 2 * SEALED_CHUNK_SIZE + 10),
    passphrases: [],
    expect: 'TRUNCATED',
  });
  await add({
    name: 'payload/truncated-mid-chunk',
    description: 'cut in the middle of chunk 1',
    file: multi.subarray(0, p + SEALED_CHUNK_SIZE + 5000),
    passphrases: [],
    expect: 'CHUNK_AUTH_FAILED',
  });
  await add({
    name: 'payload/trailing-data',
    description: 'one byte appended',
    file: concat(multi, new Uint8Array([0])),
    passphrases: [],
    expect: 'TRAILING_DATA',
  });
  await add({
    name: 'payload/trailing-after-empty-final',
    description: '100 bytes appended after an empty final chunk',
    file: concat(
      await seal('seal 16384', drbg(`plaintext ${CHUNK_SIZE}`)(CHUNK_SIZE), { recipients: [KEY_A] }),
      new Uint8Array(100),
    ),
    passphrases: [],
    expect: 'TRAILING_DATA',
  });
  await add({
    name: 'payload/concatenated',
    description: 'two short objects back to back',
    file: concat(bound, bound),
    passphrases: [],
    expect: 'TRAILING_DATA',
  });
  // ---- Decisions of SPEC §4.4, §5.2, §5.3, §3.1, §7, §9, §10 (appended: the vectors above never change).

  // Try order and work limits (SPEC §5.2, §5.3).
  const keyAndHard = await seal('key and hard passphrase', plaintext.subarray(0, 300), {
    recipients: [{ passphrase: PASSPHRASE, workFactor: 12 }, KEY_A],
  });
  await add({
    name: 'order/raw-key-before-passphrase',
    description:
      'passphrase stanza (logN 12) first, raw-key stanza second; reader holds both, limit 11: the raw key opens, the limit never applies',
    file: keyAndHard,
    passphrases: [PASSPHRASE],
    maxWorkFactor: 11,
    expect: 'success',
    plaintext: plaintext.subarray(0, 300),
  });
  await add({
    name: 'order/passphrase-only-over-limit',
    description: 'the same object, passphrase only, limit 11: refused before any scrypt work',
    keys: [],
    file: keyAndHard,
    passphrases: [PASSPHRASE],
    maxWorkFactor: 11,
    expect: 'WORK_FACTOR_TOO_HIGH',
  });
  const easyThenHard = await seal('easy then hard', plaintext.subarray(0, 300), {
    recipients: [
      { passphrase: PASSPHRASE, workFactor: 10 },
      { passphrase: 'another', workFactor: 12 },
    ],
  });
  await add({
    name: 'work/limit-checked-over-all-stanzas',
    description: 'logN 10 (right passphrase) then logN 12, limit 11: refused although the first would open',
    keys: [],
    file: easyThenHard,
    passphrases: [PASSPHRASE],
    maxWorkFactor: 11,
    expect: 'WORK_FACTOR_TOO_HIGH',
  });
  const three10 = await seal('three at 10', plaintext.subarray(0, 300), {
    recipients: [
      { passphrase: 'one', workFactor: 10 },
      { passphrase: 'two', workFactor: 10 },
      { passphrase: PASSPHRASE, workFactor: 10 },
    ],
  });
  await add({
    name: 'work/total-budget-exceeded',
    description: 'three logN-10 stanzas, limit 10 so budget 2^11: 3 x 2^10 is over it',
    keys: [],
    file: three10,
    passphrases: [PASSPHRASE],
    maxWorkFactor: 10,
    expect: 'WORK_FACTOR_TOO_HIGH',
  });
  await add({
    name: 'work/total-budget-raised',
    description: 'the same object with the budget raised to 2^12 by the reader',
    keys: [],
    file: three10,
    passphrases: [PASSPHRASE],
    maxWorkFactor: 10,
    maxTotalWorkFactor: 12,
    expect: 'success',
    plaintext: plaintext.subarray(0, 300),
  });

  // The header's msgpack subset (SPEC §4.4): unknown stanzas are skipped whatever they hold within it.
  const small = plaintext.subarray(0, 200);
  const base = await seal('unknown stanzas', small, { recipients: [KEY_A] });
  const withStanzas = (extra: Uint8Array[]) => {
    const hl = readHeaderLength(base)!;
    const lc = readU32(base, 11);
    const own = base.subarray(19 + lc, hl); // the block: fixarray of one stanza
    const block = concat(new Uint8Array([0x90 | (extra.length + 1)]), ...extra, own.subarray(1));
    const length = new Uint8Array(4);
    writeU32(length, 0, block.length);
    return concat(base.subarray(0, 15 + lc), length, block, base.subarray(hl));
  };
  const future = (fields: [string, MsgValue][]) =>
    encodeCanonical(new Map<string, MsgValue>([['type', 'future-type'], ...fields]));
  await add({
    name: 'msgpack/unknown-stanza-every-type',
    description:
      'an unknown stanza with nil, booleans, uint64 2^40 and 2^64-1, int64 -2^40, bin, nested array and map: skipped',
    file: withStanzas([
      future([
        ['nil', null],
        ['t', true],
        ['f', false],
        ['big', 2n ** 40n],
        ['max', 2n ** 64n - 1n],
        ['neg', -(2n ** 40n)],
        ['bin', new Uint8Array(33)],
        ['list', [1, 'two', [3]]],
        ['map', new Map<string, MsgValue>([['a', new Map<string, MsgValue>([['b', 1]])]])],
      ]),
    ]),
    passphrases: [],
    expect: 'success',
    plaintext: small,
  });
  const nested = (depth: number): MsgValue => (depth === 0 ? [] : [nested(depth - 1)]);
  await add({
    name: 'msgpack/nesting-at-limit',
    description: 'block (1) > stanza (2) > 6 nested arrays: 8 levels, the limit',
    file: withStanzas([future([['deep', nested(5)]])]),
    passphrases: [],
    expect: 'success',
    plaintext: small,
  });
  const rawStanza = (tail: string) =>
    concat(
      encodeCanonical(new Map<string, MsgValue>([['type', 'future-type']])).map((b, i) =>
        i === 0 ? 0x82 : b,
      ),
      hexBytes(tail),
    );
  const hostile: [string, string, string][] = [
    ['msgpack/nesting-too-deep', '9 levels of nesting', `a46465657091919191919190`],
    ['msgpack/float-in-unknown-stanza', 'a float64 value', 'a178cb3ff0000000000000'],
    ['msgpack/ext-in-unknown-stanza', 'an extension value', 'a178d40100'],
    ['msgpack/non-minimal-int-in-unknown-stanza', 'uint16 holding 5', 'a178cd0005'],
    ['msgpack/int64-for-positive-in-unknown-stanza', 'int64 holding 2^40', 'a178d30000010000000000'],
    ['msgpack/duplicate-key-in-unknown-stanza', 'the key "type" twice', 'a474797065a178'],
    ['msgpack/bad-utf8-in-unknown-stanza', 'a string value that is not UTF-8', 'a178a2c328'],
  ];
  for (const [name, what, tail] of hostile) {
    await add({
      name,
      description: `an unknown stanza holding ${what}: the header is invalid`,
      file: withStanzas([rawStanza(tail)]),
      passphrases: [],
      expect: 'HEADER_INVALID',
    });
  }

  // Which error wins (SPEC §9).
  await add({
    name: 'errors/key-before-identity',
    description: 'wrong key and wrong expected identity: no key matched is reported',
    keys: [KEY_B],
    file: bound,
    passphrases: [],
    identity: 'bucket/photos/dog.jpg',
    expect: 'NO_MATCHING_KEY',
  });
  await add({
    name: 'errors/commitment-before-identity',
    description: 'commitment flipped and wrong expected identity: the commitment is reported',
    file: flip(bound, readHeaderLength(bound)! + 30),
    passphrases: [],
    identity: 'bucket/photos/dog.jpg',
    expect: 'COMMITMENT_MISMATCH',
  });
  await add({
    name: 'errors/header-before-truncation',
    description: 'an invalid stanza and the file cut right after the header: the header error is reported',
    file: (() => {
      const f = withStanzas([rawStanza('a178cb3ff0000000000000')]);
      return f.subarray(0, readHeaderLength(f)! + 13);
    })(),
    passphrases: [],
    expect: 'HEADER_INVALID',
  });
  await add({
    name: 'errors/bad-key-text-before-input',
    description: 'a key text that does not parse, on an empty input: the caller error is reported first',
    keys: [],
    keyTexts: ['not a key'],
    file: new Uint8Array(0),
    passphrases: [],
    expect: 'INVALID_KEY',
  });

  // Key text (SPEC §3.1).
  const b64 = Buffer.from(KEY_A).toString('base64');
  const keyText = (name: string, description: string, text: string, expect: string) =>
    add({
      name,
      description,
      keys: [],
      keyTexts: [text],
      file: multi,
      passphrases: [],
      expect,
      ...(expect === 'success' ? { plaintext } : {}),
    });
  await keyText('keytext/base64-with-newline', 'padded base64 followed by CRLF', `${b64}\r\n`, 'success');
  await keyText('keytext/hex-uppercase', '64 upper-case hex digits', toHex(KEY_A).toUpperCase(), 'success');
  await keyText(
    'keytext/base64url-unpadded',
    'base64url without padding',
    Buffer.from(KEY_A).toString('base64url'),
    'success',
  );
  // Flip the lowest of the last character's 6 bits: one of the 2 spare bits, so the bytes stay the same.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const spare = `${b64.slice(0, 42)}${alphabet[alphabet.indexOf(b64[42]!) ^ 1]}=`;
  await keyText(
    'keytext/nonzero-spare-bits',
    'the last base64 character has non-zero spare bits',
    spare,
    'INVALID_KEY',
  );
  await keyText(
    'keytext/inner-space',
    'a space inside the base64',
    `${b64.slice(0, 20)} ${b64.slice(20)}`,
    'INVALID_KEY',
  );
  await keyText(
    'keytext/nbsp-around',
    'a no-break space after the key (only ASCII whitespace is trimmed)',
    `${b64}\u00a0`,
    'INVALID_KEY',
  );

  // Identity (SPEC §7).
  const nfd = 'bucket/cafe\u0301.txt';
  const boundNfd = await seal('bound nfd', small, { recipients: [KEY_A], identity: nfd });
  await add({
    name: 'identity/not-normalized',
    description: 'bound to an NFD identity, expected in NFC: identities are compared byte for byte',
    file: boundNfd,
    passphrases: [],
    identity: nfd.normalize('NFC'),
    expect: 'IDENTITY_MISMATCH',
  });
  await add({
    name: 'identity/same-bytes',
    description: 'bound to an NFD identity, expected in the same form',
    file: boundNfd,
    passphrases: [],
    identity: nfd,
    expect: 'success',
    plaintext: small,
  });
  const badUtf8 = boundNfd.slice();
  badUtf8[Buffer.from(boundNfd).indexOf('cafe') + 1] = 0xff;
  await add({
    name: 'identity/invalid-utf8',
    description: 'the identity in the header is not valid UTF-8',
    file: badUtf8,
    passphrases: [],
    expect: 'HEADER_INVALID',
  });

  // TRAILING_DATA or CHUNK_AUTH_FAILED (SPEC §10).
  await add({
    name: 'payload/trailing-whole-chunk',
    description: 'a whole sealed chunk (16400 zero bytes) appended: read as a full chunk, which fails',
    file: concat(multi, new Uint8Array(SEALED_CHUNK_SIZE)),
    passphrases: [],
    expect: 'CHUNK_AUTH_FAILED',
  });
  await add({
    name: 'payload/trailing-under-a-chunk',
    description: '16399 bytes appended (the last piece becomes a full chunk and a 116-byte one)',
    file: concat(multi, new Uint8Array(SEALED_CHUNK_SIZE - 1)),
    passphrases: [],
    expect: 'CHUNK_AUTH_FAILED',
  });
  await add({
    name: 'payload/trailing-16-bytes',
    description: '16 bytes appended to a final chunk of 116 bytes: a prefix of the last piece authenticates',
    file: concat(multi, new Uint8Array(16)),
    passphrases: [],
    expect: 'TRAILING_DATA',
  });
  await addPublicKeyVectors(add, seal);
  return vectors;
}

function hexBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/**
 * Public-key recipients (SPEC §5.4, §5.5): one contiguous block of `pk/` cases, appended after the
 * others so their bytes never move. The small-order cases carry a wrap that a reader without the
 * check of SPEC §5.4 would open: only the check makes them fail.
 */
async function addPublicKeyVectors(
  add: (v: CaseInput) => Promise<void>,
  seal: (
    label: string,
    plaintext: Uint8Array,
    options: Omit<EncryptOptions, '_random'>,
  ) => Promise<Uint8Array>,
): Promise<void> {
  const X25519_A = new PrivateKey('x25519', drbg('x25519 key A')(32));
  const X25519_B = new PrivateKey('x25519', drbg('x25519 key B')(32));
  const HYBRID_A = new PrivateKey('mlkem768x25519', drbg('mlkem768x25519 key A')(32));
  const HYBRID_B = new PrivateKey('mlkem768x25519', drbg('mlkem768x25519 key B')(32));
  const plaintext = drbg('plaintext public keys')(1000);
  const none = { keys: [], passphrases: [] };

  const classic = await seal('pk x25519', plaintext, { recipients: [X25519_A.recipient] });
  const hybrid = await seal('pk mlkem768x25519', plaintext, { recipients: [HYBRID_A.recipient] });
  const mixed = await seal('pk mixed', plaintext, {
    recipients: [X25519_A.recipient, HYBRID_A.recipient, KEY_B, { passphrase: PASSPHRASE, workFactor: 10 }],
  });
  await add({
    name: 'pk/x25519',
    description: 'one X25519 recipient, opened by its private key',
    ...none,
    privateKeys: [X25519_A],
    file: classic,
    expect: 'success',
    plaintext,
  });
  await add({
    name: 'pk/mlkem768x25519',
    description: 'one ML-KEM-768 + X25519 recipient, opened by its private key',
    ...none,
    privateKeys: [HYBRID_A],
    file: hybrid,
    expect: 'success',
    plaintext,
  });
  await add({
    name: 'pk/mixed-by-x25519',
    description: 'X25519, hybrid, raw key and passphrase recipients; opened by the X25519 key',
    ...none,
    privateKeys: [X25519_A],
    file: mixed,
    expect: 'success',
    plaintext,
  });
  await add({
    name: 'pk/mixed-by-mlkem768x25519',
    description: 'the same object, opened by the hybrid key',
    ...none,
    privateKeys: [HYBRID_A],
    file: mixed,
    expect: 'success',
    plaintext,
  });
  await add({
    name: 'pk/mixed-by-key',
    description: 'the same object, opened by the raw key',
    keys: [KEY_B],
    passphrases: [],
    file: mixed,
    expect: 'success',
    plaintext,
  });
  await add({
    name: 'pk/mixed-by-passphrase',
    description: 'the same object, opened by the passphrase',
    keys: [],
    passphrases: [PASSPHRASE],
    file: mixed,
    expect: 'success',
    plaintext,
  });
  await add({
    name: 'pk/x25519-wrong-key',
    description: 'the mixed object and another X25519 key',
    ...none,
    privateKeys: [X25519_B],
    file: mixed,
    expect: 'NO_MATCHING_KEY',
  });
  await add({
    name: 'pk/mlkem768x25519-wrong-key',
    description: 'the mixed object and another hybrid key',
    ...none,
    privateKeys: [HYBRID_B],
    file: mixed,
    expect: 'NO_MATCHING_KEY',
  });

  /** `file` with its first stanza's field `name` edited. */
  const edited = (file: Uint8Array, name: string, edit: (value: Uint8Array) => Uint8Array) => {
    const h = parseHeader(file);
    const [first, ...rest] = h.stanzas;
    const fields = new Map(first!.fields);
    fields.set(name, edit(fields.get(name) as Uint8Array));
    return concat(
      h.context,
      encodeRecipientsBlock([{ type: first!.type, fields }, ...rest]),
      file.subarray(h.headerLength),
    );
  };
  const flipAt = (at: number) => (value: Uint8Array) => flip(value, at);
  for (const [type, key, file, encFlip, shareAt] of [
    ['x25519', X25519_A, classic, 5, undefined],
    ['mlkem768x25519', HYBRID_A, hybrid, 500, 1100],
  ] as const) {
    await add({
      name: `pk/${type}-enc-flipped`,
      description: `a bit flipped in the stanza's enc (byte ${encFlip})`,
      ...none,
      privateKeys: [key],
      file: edited(file, 'enc', flipAt(encFlip)),
      expect: 'NO_MATCHING_KEY',
    });
    if (shareAt !== undefined) {
      await add({
        name: `pk/${type}-share-flipped`,
        description: `a bit flipped in the X25519 share inside enc (byte ${shareAt})`,
        ...none,
        privateKeys: [key],
        file: edited(file, 'enc', flipAt(shareAt)),
        expect: 'NO_MATCHING_KEY',
      });
    }
    await add({
      name: `pk/${type}-wrap-flipped`,
      description: 'a bit flipped in the wrapped data key',
      ...none,
      privateKeys: [key],
      file: edited(file, 'wrap', flipAt(39)),
      expect: 'NO_MATCHING_KEY',
    });
    await add({
      name: `pk/${type}-kid-flipped`,
      description: 'a bit flipped in the key ID: the key is not tried',
      ...none,
      privateKeys: [key],
      file: edited(file, 'kid', flipAt(0)),
      expect: 'NO_MATCHING_KEY',
    });
    await add({
      name: `pk/${type}-enc-short`,
      description: 'enc one byte short: a malformed stanza of a known type',
      ...none,
      privateKeys: [key],
      file: edited(file, 'enc', (v) => v.subarray(1)),
      expect: 'HEADER_INVALID',
    });
  }

  // Small-order shares with the wrap a reader without the zero check would accept (SPEC §5.4, §5.5).
  const backend = resolveBackend('noble');
  const env = { backend, limits: { maxWorkFactor: 20, maxTotalWorkFactor: 21 } };
  const dataKeyOf = async (key: PrivateKey, file: Uint8Array) =>
    (await key.unwrap(parseHeader(file).stanzas[0]!, env))!;
  const kekFor = (type: string, ss: Uint8Array, enc: Uint8Array, pk: Uint8Array) =>
    hkdf(sha512, ss, concat(enc, pk), utf8(`sealstream/v1 ${type}`), 32);
  const classicKey = await dataKeyOf(X25519_A, classic);
  for (const [label, point] of SMALL_ORDER_POINTS) {
    const kek = kekFor('x25519', new Uint8Array(32), point, X25519_A.recipient.publicKey);
    const wrap = await backend.wrapKey(kek, classicKey);
    const forged = edited(
      edited(classic, 'enc', () => point),
      'wrap',
      () => wrap,
    );
    await add({
      name: `pk/x25519-small-order-${label}`,
      description: `enc is the small-order point ${label}; wrap made with a zero shared secret`,
      ...none,
      privateKeys: [X25519_A],
      file: forged,
      expect: 'NO_MATCHING_KEY',
    });
  }
  // X-Wing by hand (its combiner over the two shared secrets), to put a zero X25519 secret in it.
  const expanded = shake256(drbg('mlkem768x25519 key A')(32), { dkLen: 96 });
  const mlkemSecret = ml_kem768.keygen(expanded.subarray(0, 64)).secretKey;
  const xwing = (enc: Uint8Array, x25519Secret: Uint8Array) =>
    sha3_256(
      concat(
        ml_kem768.decapsulate(enc.subarray(0, 1088), mlkemSecret),
        x25519Secret,
        enc.subarray(1088),
        HYBRID_A.recipient.publicKey.subarray(1184),
        XWING_LABEL,
      ),
    );
  const honestEnc = parseHeader(hybrid).stanzas[0]!.fields.get('enc') as Uint8Array;
  const honestX25519 = x25519.getSharedSecret(expanded.subarray(64), honestEnc.subarray(1088));
  if (
    toHex(xwing(honestEnc, honestX25519)) !==
    toHex(ml_kem768_x25519.decapsulate(honestEnc, drbg('mlkem768x25519 key A')(32)))
  ) {
    throw new Error('the X-Wing written out here disagrees with @noble/post-quantum');
  }
  const hybridKey = await dataKeyOf(HYBRID_A, hybrid);
  const [label, point] = SMALL_ORDER_POINTS[0]!;
  const forgedEnc = concat(honestEnc.subarray(0, 1088), point);
  const kek = kekFor(
    'mlkem768x25519',
    xwing(forgedEnc, new Uint8Array(32)),
    forgedEnc,
    HYBRID_A.recipient.publicKey,
  );
  const wrap = await backend.wrapKey(kek, hybridKey);
  await add({
    name: `pk/mlkem768x25519-small-order-${label}`,
    description: `the X25519 share in enc is the small-order point ${label}; wrap made with X-Wing over a zero X25519 secret`,
    ...none,
    privateKeys: [HYBRID_A],
    file: edited(
      edited(hybrid, 'enc', () => forgedEnc),
      'wrap',
      () => wrap,
    ),
    expect: 'NO_MATCHING_KEY',
  });
}

/** X-Wing's combiner label, the six ASCII characters \.//^\ (draft-connolly-cfrg-xwing-kem). */
const XWING_LABEL = utf8('\\.//^\\');

/** Small-order X25519 u-coordinates (SPEC §5.4), little-endian: zero, one, one of order 8, and p (a second zero). */
const SMALL_ORDER_POINTS: readonly [string, Uint8Array][] = [
  ['zero', new Uint8Array(32)],
  ['one', Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))],
  [
    'order-8',
    Uint8Array.from(Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex')),
  ],
  ['p', Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 0xed : i === 31 ? 0x7f : 0xff))],
];

const json = `${JSON.stringify(await build(), null, 1)}\n`;
if (process.argv.includes('--check')) {
  const current = readFileSync(OUT, 'utf8');
  if (current !== json) {
    console.error(
      'test/vectors/sealstream-v1.json differs from a fresh generation: run `pnpm vectors` and review the diff',
    );
    process.exit(1);
  }
  console.log('vectors: in step with the generator');
} else {
  writeFileSync(OUT, json);
  console.log(`vectors: wrote ${new URL(OUT).pathname}`);
}
