/**
 * Key derivations: the C2SP chunked-encryption HKDF-Expand step (SPEC §6.2) and scrypt for
 * passphrases (SPEC §3.3).
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concat, utf8 } from './bytes.ts';
import { nodeCryptoModule } from './node-crypto.ts';

/** Name of the AEAD in the IANA AEAD registry, part of the derivation info (SPEC §6.2). */
const AEAD_NAME = 'AEAD_AES_256_GCM';
const C2SP_PREFIX = utf8('c2sp.org/chunked-encryption@v1+');
const SCRYPT_SALT_LABEL = utf8('sealstream/v1 scrypt');

/**
 * HKDF-Expand (RFC 5869 §2.3) with SHA-512. Written out because C2SP chunked encryption expands a
 * 32-byte input key, shorter than the hash length that some HKDF libraries insist on for `prk`.
 */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length > 255 * 64) throw new RangeError('HKDF-Expand output too long');
  const mac = hmacSha512();
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1, offset = 0; offset < length; i++) {
    previous = mac(prk, concat(previous, info, new Uint8Array([i])));
    out.set(previous.subarray(0, Math.min(64, length - offset)), offset);
    offset += previous.length;
  }
  return out;
}

/**
 * HMAC-SHA-512: node:crypto's where there is one, else noble's (the same bytes). Node's spares each
 * process that opens or seals one object the JIT compilation of a SHA-512 written in JavaScript
 * (part of the CLI's start-up, measured in the bench's `cli_*` figures).
 */
function hmacSha512(): (key: Uint8Array, message: Uint8Array) => Uint8Array {
  const node = nodeCryptoModule();
  if (!node) return (key, message) => hmac(sha512, key, message);
  return (key, message) => {
    const digest = node.createHmac('sha512', key);
    digest.update(message);
    const bytes = digest.digest();
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  };
}

/** Per-object payload keys derived from the data key (SPEC §6.2). */
export interface PayloadKeys {
  key: Uint8Array;
  baseNonce: Uint8Array;
  commitment: Uint8Array;
}

/** Derives the AEAD key, base nonce and commitment for one payload (SPEC §6.2). */
export function derivePayloadKeys(dataKey: Uint8Array, salt: Uint8Array, context: Uint8Array): PayloadKeys {
  const info = concat(C2SP_PREFIX, utf8(AEAD_NAME), new Uint8Array([0]), salt, context);
  const okm = hkdfExpand(dataKey, info, 32 + 12 + 32);
  return { key: okm.subarray(0, 32), baseNonce: okm.subarray(32, 44), commitment: okm.subarray(44, 76) };
}

/** The passphrase key-encryption key (SPEC §3.3). Uses node:crypto where present, else noble. */
export async function passphraseKek(passphrase: string, salt: Uint8Array, logN: number): Promise<Uint8Array> {
  const password = utf8(passphrase.normalize('NFC'));
  const fullSalt = concat(SCRYPT_SALT_LABEL, salt);
  const N = 2 ** logN;
  const r = 8;
  const maxmem = 128 * r * N + 64 * 1024 * 1024;
  const node = nodeCryptoModule();
  if (node) {
    return new Promise((resolve, reject) =>
      node.scrypt(password, fullSalt, 32, { N, r, p: 1, maxmem }, (err, key) =>
        err ? reject(err) : resolve(new Uint8Array(key.buffer, key.byteOffset, key.length)),
      ),
    );
  }
  return scryptAsync(password, fullSalt, { N, r, p: 1, dkLen: 32, maxmem });
}
