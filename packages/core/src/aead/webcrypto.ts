/** WebCrypto backend: browsers, Deno, Bun, workers, and Node. @module */
import type { ChunkCipher, CipherBackend } from './backend.ts';

const GCM = 'AES-GCM';
const KW = 'AES-KW';
const EMPTY = new Uint8Array(0);

let instance: CipherBackend | undefined;

// WebCrypto's types want ArrayBuffer-backed views; ours may be views of any buffer.
type Bytes = Uint8Array<ArrayBuffer>;
const b = (bytes: Uint8Array) => bytes as Bytes;

/** The WebCrypto backend. */
export function webcryptoBackend(): CipherBackend {
  if (instance) return instance;
  const subtle = globalThis.crypto.subtle;
  instance = {
    name: 'webcrypto',
    async gcm(key: Uint8Array): Promise<ChunkCipher> {
      const k = await subtle.importKey('raw', b(key), GCM, false, ['encrypt', 'decrypt']);
      return {
        async seal(nonce, plaintext, out, aad) {
          const params = { name: GCM, iv: b(nonce), additionalData: b(aad ?? EMPTY) };
          out.set(new Uint8Array(await subtle.encrypt(params, k, b(plaintext))), 0);
        },
        async open(nonce, sealed, out, aad) {
          const params = { name: GCM, iv: b(nonce), additionalData: b(aad ?? EMPTY) };
          try {
            out.set(new Uint8Array(await subtle.decrypt(params, k, b(sealed))), 0);
            return true;
          } catch {
            return false;
          }
        },
      };
    },
    async wrapKey(kek, key) {
      const wrapping = await subtle.importKey('raw', b(kek), KW, false, ['wrapKey']);
      // The data key is handled as an extractable HMAC key: any algorithm that accepts 32 raw bytes works.
      const data = await subtle.importKey('raw', b(key), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
      return new Uint8Array(await subtle.wrapKey('raw', data, wrapping, KW));
    },
    async unwrapKey(kek, wrapped) {
      const wrapping = await subtle.importKey('raw', b(kek), KW, false, ['unwrapKey']);
      try {
        const data = await subtle.unwrapKey(
          'raw',
          b(wrapped),
          wrapping,
          KW,
          { name: 'HMAC', hash: 'SHA-256' },
          true,
          ['sign'],
        );
        return new Uint8Array(await subtle.exportKey('raw', data));
      } catch {
        return undefined;
      }
    },
  };
  return instance;
}
