/** @noble/ciphers backend: pure JavaScript, runs anywhere; also a cross-check of the others. @module */
import { aeskw, gcm } from '@noble/ciphers/aes.js';
import type { ChunkCipher, CipherBackend } from './backend.ts';
import { openEach, sealEach } from './runs.ts';

let instance: CipherBackend | undefined;

/** The @noble/ciphers backend. */
export function nobleBackend(): CipherBackend {
  instance ??= {
    name: 'noble',
    gcm(key: Uint8Array): ChunkCipher {
      const seal = (nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array, aad?: Uint8Array) => {
        out.set(gcm(key, nonce, aad).encrypt(plaintext), 0);
      };
      const open = (nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array, aad?: Uint8Array) => {
        try {
          out.set(gcm(key, nonce, aad).decrypt(sealed), 0);
          return true;
        } catch {
          return false;
        }
      };
      return { seal, open, sealRun: sealEach(seal), openRun: openEach(open) };
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
