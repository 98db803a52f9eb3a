/**
 * The X25519 recipient (SPEC §5.4): an ephemeral X25519 key agreement per stanza, as age does,
 * with age's key text. The stanza itself (key ID, HKDF, AES-KW) is sealstream's: `public-key.ts`.
 * @module
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { SealstreamError } from '../errors.ts';
import type { StanzaKem } from './public-key.ts';

const LENGTH = 32;
/** 2^255 - 19 as little-endian bytes: a u-coordinate must be below it to be canonical. */
const FIELD_PRIME = (() => {
  const p = new Uint8Array(LENGTH).fill(0xff);
  p[0] = 0xed;
  p[31] = 0x7f;
  return p;
})();
/** Any clamped scalar: X25519 with it gives zero exactly for the points of small order. */
const PROBE_SCALAR = new Uint8Array(LENGTH).fill(0x5a);

function isZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/** True when the little-endian `u` is below 2^255 - 19 (which also means its top bit is clear). */
function isCanonical(u: Uint8Array): boolean {
  for (let i = LENGTH - 1; i >= 0; i--) {
    if (u[i]! !== FIELD_PRIME[i]!) return u[i]! < FIELD_PRIME[i]!;
  }
  return false;
}

/**
 * X25519 (RFC 7748) of `scalar` and the point `u`, or undefined when the result is all zero, which
 * happens exactly when `u` is a point of small order (SPEC §5.4: such a share opens nothing).
 */
export function x25519SharedSecret(scalar: Uint8Array, u: Uint8Array): Uint8Array | undefined {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(scalar, u);
  } catch {
    return undefined; // @noble/curves refuses the small-order points itself
  }
  return isZero(shared) ? undefined : shared;
}

/**
 * Why an X25519 public key cannot be encrypted to, or undefined: it must be canonical (so that one
 * key has one key ID) and not of small order (the shared secret would be zero, SPEC §5.4).
 */
export function x25519PublicKeyProblem(publicKey: Uint8Array): string | undefined {
  if (!isCanonical(publicKey)) return 'it is not a canonical X25519 point encoding';
  if (!x25519SharedSecret(PROBE_SCALAR, publicKey)) return 'it is a point of small order';
  return undefined;
}

/** X25519 as a stanza KEM (SPEC §5.4): `enc` is the ephemeral public key. */
export const x25519Kem: StanzaKem = {
  type: 'x25519',
  publicKeyLength: LENGTH,
  privateKeyLength: LENGTH,
  encLength: LENGTH,
  randomLength: LENGTH,
  recipientPrefix: 'age',
  privateKeyPrefix: 'AGE-SECRET-KEY-',
  publicKeyOf: (privateKey) => x25519.getPublicKey(privateKey),
  publicKeyProblem: x25519PublicKeyProblem,
  encapsulate(publicKey, random) {
    const sharedSecret = x25519SharedSecret(random, publicKey);
    if (!sharedSecret) {
      throw new SealstreamError(
        'INVALID_KEY',
        'invalid key: the X25519 public key is a point of small order',
      );
    }
    return { enc: x25519.getPublicKey(random), sharedSecret };
  },
  decapsulate: (enc, privateKey) => x25519SharedSecret(privateKey, enc),
};
