/**
 * The post-quantum hybrid recipient (SPEC §5.5): ML-KEM-768 and X25519 combined as X-Wing
 * (`ml_kem768_x25519` of @noble/post-quantum), the KEM age calls MLKEM768-X25519, with age's key
 * text. The stanza itself (key ID, HKDF, AES-KW) is sealstream's: `public-key.ts`.
 * @module
 */
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { SealstreamError } from '../errors.ts';
import type { StanzaKem } from './public-key.ts';
import { x25519PublicKeyProblem } from './x25519.ts';

/** ML-KEM-768 encapsulation key: 3 x 256 coefficients of 12 bits, then the 32-byte seed rho. */
const MLKEM_T_LENGTH = 1152;
const MLKEM_PUBLIC_KEY_LENGTH = MLKEM_T_LENGTH + 32;
const MLKEM_Q = 3329;

/**
 * FIPS 203 §7.2's check of an encapsulation key: every 12-bit coefficient below q. Written out so a
 * key is refused when parsed, with a clear reason, not deep inside an encapsulation.
 */
function mlkemCoefficientsInRange(publicKey: Uint8Array): boolean {
  for (let i = 0; i < MLKEM_T_LENGTH; i += 3) {
    const b0 = publicKey[i]!;
    const b1 = publicKey[i + 1]!;
    const b2 = publicKey[i + 2]!;
    if ((b0 | ((b1 & 0x0f) << 8)) >= MLKEM_Q || ((b1 >>> 4) | (b2 << 4)) >= MLKEM_Q) return false;
  }
  return true;
}

/** ML-KEM-768 + X25519 (X-Wing) as a stanza KEM (SPEC §5.5): `enc` is the 1120-byte ciphertext. */
export const mlkem768x25519Kem: StanzaKem = {
  type: 'mlkem768x25519',
  publicKeyLength: ml_kem768_x25519.lengths.publicKey!,
  privateKeyLength: ml_kem768_x25519.lengths.seed!,
  encLength: ml_kem768_x25519.lengths.cipherText!,
  randomLength: ml_kem768_x25519.lengths.msgRand!,
  recipientPrefix: 'age1pq',
  privateKeyPrefix: 'AGE-SECRET-KEY-PQ-',
  publicKeyOf: (seed) => ml_kem768_x25519.getPublicKey(seed),
  publicKeyProblem(publicKey) {
    if (!mlkemCoefficientsInRange(publicKey)) return 'its ML-KEM-768 part has a coefficient out of range';
    const problem = x25519PublicKeyProblem(publicKey.subarray(MLKEM_PUBLIC_KEY_LENGTH));
    return problem && `its X25519 part: ${problem}`;
  },
  encapsulate(publicKey, random) {
    try {
      const { cipherText, sharedSecret } = ml_kem768_x25519.encapsulate(publicKey, random);
      return { enc: cipherText, sharedSecret };
    } catch (cause) {
      throw new SealstreamError(
        'INVALID_KEY',
        'invalid key: the ML-KEM-768 + X25519 public key was refused',
        {
          cause,
        },
      );
    }
  },
  decapsulate(enc, seed) {
    try {
      return ml_kem768_x25519.decapsulate(enc, seed);
    } catch {
      return undefined; // a small-order X25519 share: @noble refuses it, and SPEC §5.5 says it opens nothing
    }
  },
};
