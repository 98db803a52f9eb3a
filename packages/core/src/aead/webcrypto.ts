/** WebCrypto backend: browsers, Deno, Bun, workers, and Node. @module */

import { TAG_LENGTH } from '../sizes.ts';
import type { ChunkCipher, CipherBackend } from './backend.ts';
import { chunkViews, openLayout, sealLayout } from './runs.ts';

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
      const params = (nonce: Uint8Array, aad?: Uint8Array) => ({
        name: GCM,
        iv: b(nonce),
        additionalData: b(aad ?? EMPTY),
      });
      const open = async (nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array) => {
        try {
          return new Uint8Array(await subtle.decrypt(params(nonce, aad), k, b(sealed)));
        } catch {
          return undefined;
        }
      };
      return {
        async seal(nonce, plaintext, out, aad) {
          out.set(new Uint8Array(await subtle.encrypt(params(nonce, aad), k, b(plaintext))), 0);
        },
        async open(nonce, sealed, out, aad) {
          const plain = await open(nonce, sealed, aad);
          if (plain) out.set(plain, 0);
          return plain !== undefined;
        },
        // Every chunk of a run in flight at once (WebCrypto may spread them over threads). encrypt() and
        // decrypt() copy their inputs before returning, so the caller's buffers are free again at once.
        async sealRun(nonces, plain, out, chunkSize) {
          const layout = sealLayout(nonces, plain, out, chunkSize);
          const views = Array.from({ length: layout.count }, (_, i) =>
            chunkViews(i, layout, chunkSize, 'seal', plain, out, nonces),
          );
          const sealed = await Promise.all(views.map((v) => subtle.encrypt(params(v.nonce), k, b(v.input))));
          for (let i = 0; i < sealed.length; i++) views[i]!.out.set(new Uint8Array(sealed[i]!), 0);
          return plain.length + layout.count * TAG_LENGTH;
        },
        async openRun(nonces, sealed, out, chunkSize) {
          const layout = openLayout(nonces, sealed, out, chunkSize);
          const views = Array.from({ length: layout.count }, (_, i) =>
            chunkViews(i, layout, chunkSize, 'open', sealed, out, nonces),
          );
          const opened = await Promise.all(views.map((v) => open(v.nonce, v.input)));
          for (let i = 0; i < opened.length; i++) {
            const plain = opened[i];
            if (!plain) {
              views[i]!.out.fill(0);
              return i;
            }
            views[i]!.out.set(plain, 0);
          }
          return layout.count;
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
