/**
 * One AEAD interface (AES-256-GCM for chunks, AES-256-KW for data keys) with three backends that
 * produce identical bytes: node:crypto, WebCrypto and @noble/ciphers.
 * @module
 */
import { SealstreamError } from '../errors.ts';
import { nodeCryptoModule } from '../node-crypto.ts';
import { nobleBackend } from './noble.ts';
import { nodeBackend } from './node.ts';
import { webcryptoBackend } from './webcrypto.ts';

/** Names of the built-in backends. */
export type BackendName = 'node' | 'webcrypto' | 'noble';

/** AES-256-GCM under one key, used for many chunks. */
export interface ChunkCipher {
  /** Writes the ciphertext of `plaintext` followed by its 16-byte tag into `out` (`plaintext.length + 16` bytes). */
  seal(nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array, aad?: Uint8Array): void | Promise<void>;
  /**
   * Authenticates `sealed` (ciphertext || tag) and writes its plaintext into `out`
   * (`sealed.length - 16` bytes). Returns false when authentication fails; `out` then holds garbage
   * that the caller must not release.
   */
  open(nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array, aad?: Uint8Array): boolean | Promise<boolean>;
}

/** A cipher backend. */
export interface CipherBackend {
  readonly name: BackendName;
  /** Prepares AES-256-GCM with a 32-byte key. */
  gcm(key: Uint8Array): ChunkCipher | Promise<ChunkCipher>;
  /** AES-256-KW (RFC 3394) of `key` under `kek`. */
  wrapKey(kek: Uint8Array, key: Uint8Array): Promise<Uint8Array>;
  /** Inverse of {@link CipherBackend.wrapKey}; undefined when the integrity check fails. */
  unwrapKey(kek: Uint8Array, wrapped: Uint8Array): Promise<Uint8Array | undefined>;
}

/**
 * A backend by name, or a backend object. Omitted: node:crypto where present, else WebCrypto, else
 * noble, except in a browser's insecure context, where omitting it is an error (`BACKEND_UNAVAILABLE`).
 */
export type BackendChoice = BackendName | CipherBackend;

/** Returns the backend for a choice, checking that it can run here. */
export function resolveBackend(choice?: BackendChoice): CipherBackend {
  if (choice !== undefined && typeof choice === 'object') return choice;
  switch (choice) {
    case undefined:
      if (nodeCryptoModule()) return nodeBackend();
      if (globalThis.crypto?.subtle) return webcryptoBackend();
      // A page served over plain http from a non-loopback host has no crypto.subtle: noble would
      // work there, about ten times slower, so it is only ever taken when asked for by name.
      if ((globalThis as { isSecureContext?: boolean }).isSecureContext === false) {
        throw unavailable(
          'webcrypto',
          'this page is not a secure context, so crypto.subtle is missing: serve it over https (or from localhost), or choose backend "noble" explicitly (pure JavaScript, about 10x slower)',
        );
      }
      return nobleBackend();
    case 'node':
      if (!nodeCryptoModule()) throw unavailable('node', 'node:crypto is not available in this runtime');
      return nodeBackend();
    case 'webcrypto':
      if (!globalThis.crypto?.subtle)
        throw unavailable('webcrypto', 'crypto.subtle is not available (insecure context?)');
      return webcryptoBackend();
    case 'noble':
      return nobleBackend();
    default:
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `unknown backend ${JSON.stringify(choice)}: expected node, webcrypto or noble`,
      );
  }
}

function unavailable(name: string, why: string): SealstreamError {
  return new SealstreamError('BACKEND_UNAVAILABLE', `the ${name} cipher backend cannot run here: ${why}`);
}
