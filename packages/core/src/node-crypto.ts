/**
 * node:crypto, reached without an import statement so that browser bundlers never try to resolve
 * it, and typed by the few members we use so the core needs no Node type definitions.
 * @module
 */

interface NodeCipher {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  setAAD(aad: Uint8Array): unknown;
  getAuthTag(): Uint8Array;
  setAuthTag(tag: Uint8Array): unknown;
}

/** The subset of node:crypto the core uses. */
export interface NodeCrypto {
  createSecretKey(key: Uint8Array): unknown;
  createCipheriv(
    algorithm: string,
    key: unknown,
    iv: Uint8Array,
    options?: { authTagLength: number },
  ): NodeCipher;
  createDecipheriv(
    algorithm: string,
    key: unknown,
    iv: Uint8Array,
    options?: { authTagLength: number },
  ): NodeCipher;
  createHmac(algorithm: string, key: Uint8Array): { update(data: Uint8Array): unknown; digest(): Uint8Array };
  scrypt(
    password: Uint8Array,
    salt: Uint8Array,
    keylen: number,
    options: { N: number; r: number; p: number; maxmem: number },
    callback: (err: Error | null, key: Uint8Array) => void,
  ): void;
}

/** node:crypto on Node.js, Deno and Bun (`process.getBuiltinModule`, Node >= 20.16); undefined elsewhere. */
export function nodeCryptoModule(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
}
