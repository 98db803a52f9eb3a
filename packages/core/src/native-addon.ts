/**
 * The optional native addon (@sealstream/native), reached like node:crypto: through
 * `process.getBuiltinModule` at run time, never through an import statement, so that browser bundlers
 * never see it and runtimes without it simply report it absent. Its types come from the package (a
 * type-only import, erased from the output).
 * @module
 */
import type { NativeLoad } from '@sealstream/native';

export type { NativeAddon, NativeLoad } from '@sealstream/native';

type Require = (id: string) => unknown;

let loaded: NativeLoad | undefined;

/**
 * Loads @sealstream/native once. Never throws: the addon is an optional dependency, and its own loader
 * catches load failures (it is linked with eager binding, so a missing symbol is an exception, not a
 * crash) and runs a known-answer test before it is used.
 */
export function nativeAddon(): NativeLoad {
  if (loaded) return loaded;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:module') as { createRequire(from: string): Require } | undefined;
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
