/**
 * The open options a vector asks for (SPEC §11: its keys, key texts, private keys, passphrases,
 * identity and work limits), built once for every place that replays the vectors: the Node tests
 * and the Chromium page. No Node built-in here: the browser bundle imports it.
 */

import type { Vector } from '../scripts/generate-vectors.ts';
import type { BackendName } from '../src/index.ts';

const bytesOfHex = (text: string): Uint8Array =>
  Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));

/** The options that open (or are refused by) vector `v`, on `backend`. */
export const vectorOpenOptions = (v: Vector, backend: BackendName) => ({
  keys: [
    ...v.keys.map(bytesOfHex),
    ...(v.keyTexts ?? []),
    ...(v.privateKeys ?? []),
    ...v.passphrases.map((passphrase) => ({ passphrase })),
  ],
  identity: v.identity,
  maxWorkFactor: v.maxWorkFactor,
  maxTotalWorkFactor: v.maxTotalWorkFactor,
  backend,
});
