/**
 * Native backend: @sealstream/native, AES-256-GCM in Node's own OpenSSL with one cipher context per
 * key and runs of chunks per call into the caller's buffers. The fastest where it loads; AES-KW goes
 * through node:crypto (it is used once per recipient, never on the hot path).
 * @module
 */
import { nativeAddon } from '../native-addon.ts';
import type { ChunkCipher, CipherBackend } from './backend.ts';
import { nodeBackend } from './node.ts';

let instance: CipherBackend | undefined;

/** The native backend (throws if the addon did not load; check with resolveBackend). */
export function nativeBackend(): CipherBackend {
  if (instance) return instance;
  const load = nativeAddon();
  if (!load.addon) throw new Error(`@sealstream/native is not available: ${load.reason}`);
  const addon = load.addon;
  const node = nodeBackend();
  instance = {
    name: 'native',
    gcm(key: Uint8Array): ChunkCipher {
      // The key schedule lives in OpenSSL until the handle is collected (EVP_CIPHER_CTX_free wipes it).
      const handle = addon.gcm(key);
      return {
        seal: (nonce, plaintext, out, aad) => addon.seal(handle, nonce, plaintext, out, aad ?? null),
        open: (nonce, sealed, out, aad) => addon.open(handle, nonce, sealed, out, aad ?? null),
        sealRun: (nonces, plain, out, chunkSize) => addon.sealRun(handle, nonces, plain, out, chunkSize),
        openRun: (nonces, sealed, out, chunkSize) => addon.openRun(handle, nonces, sealed, out, chunkSize),
      };
    },
    wrapKey: (kek, key) => node.wrapKey(kek, key),
    unwrapKey: (kek, wrapped) => node.unwrapKey(kek, wrapped),
  };
  return instance;
}
