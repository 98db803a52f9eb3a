/** node:crypto backend: OpenSSL's AES-GCM and AES-KW. The fastest where available. @module */

import { concat } from '../bytes.ts';
import { nodeCryptoModule } from '../node-crypto.ts';
import { TAG_LENGTH } from '../sizes.ts';
import type { ChunkCipher, CipherBackend } from './backend.ts';
import { openEach, sealEach } from './runs.ts';

// RFC 3394 default initial value.
const KW_IV = new Uint8Array([0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6]);

let instance: CipherBackend | undefined;

/** The node:crypto backend (throws if node:crypto is absent; check with resolveBackend). */
export function nodeBackend(): CipherBackend {
  if (instance) return instance;
  const c = nodeCryptoModule();
  if (!c) throw new Error('node:crypto is not available');
  instance = {
    name: 'node',
    gcm(key: Uint8Array): ChunkCipher {
      // A KeyObject skips re-validating the raw key on every chunk.
      const keyObject = c.createSecretKey(key);
      const seal = (nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array, aad?: Uint8Array) => {
        const cipher = c.createCipheriv('aes-256-gcm', keyObject, nonce);
        if (aad) cipher.setAAD(aad);
        out.set(cipher.update(plaintext), 0);
        cipher.final();
        out.set(cipher.getAuthTag(), plaintext.length);
      };
      const open = (nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array, aad?: Uint8Array) => {
        const n = sealed.length - TAG_LENGTH;
        if (n < 0) return false;
        const decipher = c.createDecipheriv('aes-256-gcm', keyObject, nonce, { authTagLength: TAG_LENGTH });
        decipher.setAuthTag(sealed.subarray(n));
        if (aad) decipher.setAAD(aad);
        const plain = decipher.update(sealed.subarray(0, n));
        try {
          decipher.final();
        } catch {
          return false;
        }
        out.set(plain, 0);
        return true;
      };
      return { seal, open, sealRun: sealEach(seal), openRun: openEach(open) };
    },
    async wrapKey(kek, key) {
      const cipher = c.createCipheriv('id-aes256-wrap', kek, KW_IV);
      return concat(cipher.update(key), cipher.final());
    },
    async unwrapKey(kek, wrapped) {
      try {
        const decipher = c.createDecipheriv('id-aes256-wrap', kek, KW_IV);
        return concat(decipher.update(wrapped), decipher.final());
      } catch {
        return undefined;
      }
    },
  };
  return instance;
}
