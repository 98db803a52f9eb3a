/**
 * The optional native addon (@sealstream/native), reached like node:crypto: through
 * `process.getBuiltinModule` at run time, never through an import statement, so that browser bundlers
 * never see it and runtimes without it simply report it absent. Typed by the few members we use.
 * @module
 */

/** An AES-256-GCM key prepared inside OpenSSL. Opaque. */
export type GcmHandle = { readonly __gcmHandle: unique symbol };

/** The addon's functions (contract in packages/native/src/gcm.c). */
export interface NativeAddon {
  gcm(key: Uint8Array): GcmHandle;
  seal(
    handle: GcmHandle,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    aad: Uint8Array | null,
  ): void;
  open(
    handle: GcmHandle,
    nonce: Uint8Array,
    sealed: Uint8Array,
    out: Uint8Array,
    aad: Uint8Array | null,
  ): boolean;
  sealRun(
    handle: GcmHandle,
    nonces: Uint8Array,
    plain: Uint8Array,
    out: Uint8Array,
    chunkSize: number,
  ): number;
  openRun(
    handle: GcmHandle,
    nonces: Uint8Array,
    sealed: Uint8Array,
    out: Uint8Array,
    chunkSize: number,
  ): number;
}

/** The addon, or why it cannot be used here. */
export type NativeLoad = { addon: NativeAddon; path: string } | { addon: undefined; reason: string };

type Require = (id: string) => unknown;
interface NodeModule {
  createRequire(from: string): Require;
}

let loaded: NativeLoad | undefined;

/**
 * Loads @sealstream/native once. Never throws: the addon is an optional dependency, and its own loader
 * catches load failures (it is linked with eager binding, so a missing symbol is an exception, not a
 * crash) and runs a known-answer test before it is used.
 */
export function nativeAddon(): NativeLoad {
  if (loaded) return loaded;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:module') as NodeModule | undefined;
  if (!mod) {
    loaded = { addon: undefined, reason: 'not a Node.js runtime (no process.getBuiltinModule)' };
    return loaded;
  }
  try {
    const native = mod.createRequire(import.meta.url)('@sealstream/native') as { load(): NativeLoad };
    loaded = native.load();
  } catch (err) {
    loaded = {
      addon: undefined,
      reason: `@sealstream/native is not installed (${(err as Error).message.split('\n')[0]})`,
    };
  }
  return loaded;
}
