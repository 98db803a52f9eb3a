/** @noble/ciphers backend: pure JavaScript, runs anywhere; also a cross-check of the others. @module */
import type { ChunkCipher, CipherBackend } from './backend.ts';
import { openEach, sealEach } from './runs.ts';

type NobleAes = typeof import('./noble-aes.ts');

let aesModule: Promise<NobleAes> | undefined;

/**
 * @noble/ciphers' AES, loaded on first use: the module builds its lookup tables when it is evaluated
 * (~10 ms of start-up measured in the CLI), and most runs pick the native or node:crypto backend and
 * never need it. Every entry point of the backend is asynchronous, so nothing waits for it synchronously.
 */
function nobleAes(): Promise<NobleAes> {
  aesModule ??= import('./noble-aes.ts');
  return aesModule;
}

let instance: CipherBackend | undefined;

/** The @noble/ciphers backend. */
export function nobleBackend(): CipherBackend {
  instance ??= {
    name: 'noble',
    async gcm(key: Uint8Array): Promise<ChunkCipher> {
      const { gcm } = await nobleAes();
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
      const { aeskw } = await nobleAes();
      return aeskw(kek).encrypt(key);
    },
    async unwrapKey(kek, wrapped) {
      const { aeskw } = await nobleAes();
      try {
        return aeskw(kek).decrypt(wrapped);
      } catch {
        return undefined;
      }
    },
  };
  return instance;
}
