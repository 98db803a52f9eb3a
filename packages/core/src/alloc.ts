/**
 * Output buffers for the streams. Every buffer handed to a consumer is its own: it is never written
 * again, so there is no pool to return it to, and the cost that remains is the allocation. On Node.js
 * the allocation skips zero-filling (every byte is written by the cipher before it is handed on);
 * elsewhere it is an ordinary zeroed Uint8Array.
 * @module
 */

type Allocate = (size: number) => Uint8Array;

let allocate: Allocate | undefined;

/** A buffer of `size` bytes whose contents are unspecified; the caller writes every byte it hands on. */
export function allocUninitialized(size: number): Uint8Array {
  allocate ??= pick();
  return allocate(size);
}

function pick(): Allocate {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const buffer = proc?.getBuiltinModule?.('node:buffer') as
    | { Buffer?: { allocUnsafeSlow?: (size: number) => Uint8Array } }
    | undefined;
  const unsafe = buffer?.Buffer?.allocUnsafeSlow;
  return unsafe ? (size) => unsafe(size) : (size) => new Uint8Array(size);
}
