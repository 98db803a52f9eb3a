/**
 * The native addon (@sealstream/native) for what the CLI asks of it besides AES-GCM, which core
 * picks on its own: where a buffer sits in its page (`page-placement.ts`) and disk space reserved
 * for an output file (`preallocation.ts`). Loaded through `require` from this package's folder, as
 * core loads it (an optional dependency, never bundled): the same module instance, so no second
 * `dlopen`, and the same verdict (linked eagerly, known-answer tested).
 * @module
 */
import { createRequire } from 'node:module';
import type { NativeAddon, NativeLoad } from '@sealstream/native';

let loaded: NativeAddon | null | undefined;

/** The addon, or undefined when it is not installed or did not load (never throws). */
export function nativeAddon(): NativeAddon | undefined {
  if (loaded === undefined) {
    loaded = null;
    try {
      const native = createRequire(import.meta.url)('@sealstream/native') as { load(): NativeLoad };
      loaded = native.load().addon ?? null;
    } catch {
      // not installed: every use of it has a plain path
    }
  }
  return loaded ?? undefined;
}
