/** @noble/ciphers backend: pure JavaScript, runs anywhere; also a cross-check of the others. @module */
import { aeskw, gcm } from '@noble/ciphers/aes.js';
import type { ChunkCipher, CipherBackend } from './backend.ts';

let instance: CipherBackend | undefined;

/** The @noble/ciphers backend. */
export function nobleBackend(): CipherBackend {
  instance ??= {
    name: 'noble',
    gcm(key: Uint8Array): ChunkCipher {
      return {
        seal(nonce, plaintext, out, aad) {
          out.set(gcm(key, nonce, aad).encrypt(plaintext), 0);
        },
        open(nonce, sealed, out, aad) {
          try {
            out.set(gcm(key, nonce, aad).decrypt(sealed), 0);
            return true;
          } catch {
            return false;
          }
        },
      };
    },
    async wrapKey(kek, key) {
      return aeskw(kek).encrypt(key);
    },
    async unwrapKey(kek, wrapped) {
      try {
        return aeskw(kek).decrypt(wrapped);
      } catch {
        return undefined;
      }
    },
  };
  return instance;
}
