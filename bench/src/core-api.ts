// The part of @sealstream/core the bench uses, loaded once and shared by the families.
//
// Loaded dynamically so that the families that do not need the core (the OpenSSL ceiling, the peers)
// still run while the core is missing or broken; those that need it are skipped with the reason.

import { Duplex } from 'node:stream';
import type * as Core from '@sealstream/core';

export const BACKENDS = [
  'native',
  'node',
  'webcrypto',
  'noble',
] as const satisfies readonly Core.BackendName[];
/** A backend by name, or undefined for the automatic choice (what a user gets by default). */
export type Backend = (typeof BACKENDS)[number] | undefined;

/** The functions the bench calls; typed from the core so that a change of contract fails typecheck. */
export type CoreApi = Pick<
  typeof Core,
  | 'generateKey'
  | 'encryptStream'
  | 'decryptStream'
  | 'createSealer'
  | 'createOpener'
  | 'sealedLength'
  | 'resolveBackend'
  | 'backendReport'
>;

export type CoreLoad = { ok: true; core: CoreApi } | { ok: false; reason: string };

let loaded: Promise<CoreLoad> | undefined;

export function loadCore(): Promise<CoreLoad> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<CoreLoad> {
  let mod: Partial<CoreApi>;
  try {
    mod = await import('@sealstream/core');
  } catch (err) {
    return { ok: false, reason: `@sealstream/core could not be loaded: ${(err as Error).message}` };
  }
  const names = [
    'generateKey',
    'encryptStream',
    'decryptStream',
    'createSealer',
    'createOpener',
    'sealedLength',
    'resolveBackend',
    'backendReport',
  ] as const;
  const missing = names.filter((name) => typeof mod[name] !== 'function');
  if (missing.length > 0) {
    return { ok: false, reason: `@sealstream/core does not export ${missing.join(', ')} yet` };
  }
  return { ok: true, core: mod as CoreApi };
}

/** The core's encryption as a Node duplex, for `stream.pipeline` between fs streams. */
export function nodeEncrypt(core: CoreApi, key: Uint8Array, backend: Backend): Duplex {
  return Duplex.fromWeb(core.encryptStream({ recipients: [key], backend }));
}

export function nodeDecrypt(core: CoreApi, key: Uint8Array, backend: Backend): Duplex {
  return Duplex.fromWeb(core.decryptStream({ keys: [key], backend }));
}
