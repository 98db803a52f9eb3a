/** WebCrypto backend: browsers, Deno, Bun, workers, and Node. @module */

import { NONCE_LENGTH } from '../nonce.ts';
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
        // Every chunk of a run is issued before the first is awaited: the renderer pays its per-call cost
        // (about 30 us of main-thread CPU per 16 KiB call in Chromium) back to back while the results
        // come in, and each result is copied into place as it settles. One algorithm object and one
        // IV buffer serve the whole run: encrypt() and decrypt() copy their parameters and their input
        // before returning, so both (and the caller's buffers) are free again at once.
        async sealRun(nonces, plain, out, chunkSize) {
          const layout = sealLayout(nonces, plain, out, chunkSize);
          const algorithm = { name: GCM, iv: new Uint8Array(NONCE_LENGTH) as Bytes };
          const pending = new Array<Promise<void>>(layout.count);
          for (let i = 0; i < layout.count; i++) {
            const v = chunkViews(i, layout, chunkSize, 'seal', plain, out, nonces);
            algorithm.iv.set(v.nonce);
            pending[i] = subtle.encrypt(algorithm, k, b(v.input)).then((r) => v.out.set(new Uint8Array(r)));
          }
          await Promise.all(pending);
          return plain.length + layout.count * TAG_LENGTH;
        },
        // Results are copied into place only once the whole run has settled, in order, up to the first
        // chunk that fails (zeroed; later chunks are not touched, as the contract says).
        async openRun(nonces, sealed, out, chunkSize) {
          const layout = openLayout(nonces, sealed, out, chunkSize);
          const algorithm = { name: GCM, iv: new Uint8Array(NONCE_LENGTH) as Bytes };
          const views = new Array<ReturnType<typeof chunkViews>>(layout.count);
          const pending = new Array<Promise<ArrayBuffer | undefined>>(layout.count);
          for (let i = 0; i < layout.count; i++) {
            const v = chunkViews(i, layout, chunkSize, 'open', sealed, out, nonces);
            views[i] = v;
            algorithm.iv.set(v.nonce);
            pending[i] = subtle.decrypt(algorithm, k, b(v.input)).catch(() => undefined);
          }
          const opened = await Promise.all(pending);
          for (let i = 0; i < layout.count; i++) {
            const plain = opened[i];
            if (!plain) {
              views[i]!.out.fill(0);
              return i;
            }
            views[i]!.out.set(new Uint8Array(plain));
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
