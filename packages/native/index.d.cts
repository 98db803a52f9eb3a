/** An AES-256-GCM key prepared in OpenSSL: one cipher context per direction. Opaque. */
export type GcmHandle = { readonly __sealstreamGcm: unique symbol };

/** The addon's functions (see src/gcm.c for the exact contract). */
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
  /**
   * The address of `bytes[0]` modulo 4096 (0 for an empty view); reads no memory. Optional: a build
   * from source of an earlier checkout lacks it, so check before use.
   */
  pageOffset?(bytes: Uint8Array): number;
  /**
   * Reserves disk blocks for the first `bytes` bytes of the open file `fd` without changing its size
   * (Linux `fallocate` with `FALLOC_FL_KEEP_SIZE`). False where the system or the file system cannot.
   * Optional, as `pageOffset`.
   */
  preallocate?(fd: number, bytes: number): boolean;
}

/** The addon and where it was loaded from, or why it could not be. */
export type NativeLoad = { addon: NativeAddon; path: string } | { addon: undefined; reason: string };

/** Loads the addon once; never throws. */
export function load(): NativeLoad;

/** Whether `SEALSTREAM_NATIVE` turns the addon off (`0`, `off`, `false` or `no`): then load() loads nothing. */
export function turnedOff(): boolean;
