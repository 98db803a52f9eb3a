/**
 * One AEAD interface (AES-256-GCM for chunks, AES-256-KW for data keys) with four backends that
 * produce identical bytes: the native addon (@sealstream/native), node:crypto, WebCrypto and
 * @noble/ciphers.
 * @module
 */
import { SealstreamError } from '../errors.ts';
import { nativeAddon } from '../native-addon.ts';
import { nodeCryptoModule } from '../node-crypto.ts';
import { nativeBackend } from './native.ts';
import { nobleBackend } from './noble.ts';
import { nodeBackend } from './node.ts';
import { webcryptoBackend } from './webcrypto.ts';

/** Names of the built-in backends. */
export type BackendName = 'native' | 'node' | 'webcrypto' | 'noble';

const NAMES: readonly BackendName[] = ['native', 'node', 'webcrypto', 'noble'];

/** The environment variable that sets the automatic choice, e.g. `SEALSTREAM_BACKEND=node` to keep the addon off. */
export const BACKEND_ENV = 'SEALSTREAM_BACKEND';

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
  /**
   * Seals a run of chunks, one 12-byte nonce each in `nonces` (layout in aead/runs.ts: chunk `i` at
   * `i * chunkSize` of `plain` and `i * (chunkSize + 16)` of `out`; all whole but the last). `plain`
   * and `out` must not overlap. Nonces are read before the call returns.
   * @returns Bytes written to `out`.
   */
  sealRun(
    nonces: Uint8Array,
    plain: Uint8Array,
    out: Uint8Array,
    chunkSize: number,
  ): number | Promise<number>;
  /**
   * Opens a run of chunks (the inverse layout of {@link ChunkCipher.sealRun}). Stops at the first
   * chunk that fails authentication and zeroes that chunk's output; later chunks are not touched.
   * @returns How many chunks authenticated (all of them on success).
   */
  openRun(
    nonces: Uint8Array,
    sealed: Uint8Array,
    out: Uint8Array,
    chunkSize: number,
  ): number | Promise<number>;
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
 * A backend by name, or a backend object. Omitted: the `SEALSTREAM_BACKEND` environment variable
 * when set, else the first that runs here of native, node:crypto and WebCrypto, else noble, except in
 * a browser's insecure context, where omitting it is an error (`BACKEND_UNAVAILABLE`).
 */
export type BackendChoice = BackendName | CipherBackend;

/**
 * Returns the backend for a choice, checking that it can run here.
 * @throws {SealstreamError} `BACKEND_UNAVAILABLE` when the named backend cannot run here (the message
 *   says why), `INVALID_ARGUMENT` for an unknown name.
 * @example
 * resolveBackend().name; // 'native' where the addon loads, else 'node' on Node.js, 'webcrypto' in a browser
 */
export function resolveBackend(choice?: BackendChoice): CipherBackend {
  if (choice !== undefined && typeof choice === 'object') return choice;
  if (choice === undefined) {
    const fromEnv = backendFromEnv();
    if (fromEnv !== undefined) return named(fromEnv, ` (from ${BACKEND_ENV})`);
    if (nativeAddon().addon) return nativeBackend();
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
  }
  return named(choice, '');
}

/** Which backend the automatic choice takes here, and why the addon is not used when it is not. */
export interface BackendReport {
  /** The backend an omitted `backend` option resolves to. */
  default: BackendName;
  /** Whether the native addon loads here; when not, the reason. */
  native: { available: true; path: string } | { available: false; reason: string };
  /** The value of `SEALSTREAM_BACKEND`, when set. */
  env?: string;
}

/**
 * What the automatic backend choice is on this runtime and why: for diagnostics (`--version`-style
 * output, the demo, the bench).
 * @throws {SealstreamError} whatever the automatic choice throws: `BACKEND_UNAVAILABLE` in a browser's
 *   insecure context or when `SEALSTREAM_BACKEND` names a backend that cannot run here.
 * @example
 * const { default: name, native } = backendReport(); // { default: 'native', native: { available: true, path: '...' } }
 */
export function backendReport(): BackendReport {
  const load = nativeAddon();
  const env = envValue();
  return {
    default: resolveBackend().name,
    native: load.addon ? { available: true, path: load.path } : { available: false, reason: load.reason },
    ...(env ? { env } : {}),
  };
}

function named(name: string, source: string): CipherBackend {
  switch (name) {
    case 'native': {
      const load = nativeAddon();
      if (!load.addon) throw unavailable('native', load.reason + source);
      return nativeBackend();
    }
    case 'node':
      if (!nodeCryptoModule())
        throw unavailable('node', `node:crypto is not available in this runtime${source}`);
      return nodeBackend();
    case 'webcrypto':
      if (!globalThis.crypto?.subtle)
        throw unavailable('webcrypto', `crypto.subtle is not available (insecure context?)${source}`);
      return webcryptoBackend();
    case 'noble':
      return nobleBackend();
    default:
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `unknown backend ${JSON.stringify(name)}${source}: expected one of ${NAMES.join(', ')}`,
      );
  }
}

function envValue(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[BACKEND_ENV]?.trim();
  return value ? value : undefined;
}

/** `SEALSTREAM_BACKEND`, when set to anything but empty or `auto`. */
function backendFromEnv(): string | undefined {
  const value = envValue();
  return value === undefined || value === 'auto' ? undefined : value;
}

function unavailable(name: string, why: string): SealstreamError {
  return new SealstreamError('BACKEND_UNAVAILABLE', `the ${name} cipher backend cannot run here: ${why}`);
}
