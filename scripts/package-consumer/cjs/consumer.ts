/**
 * A CommonJS TypeScript user: with the legacy `moduleResolution: node10` (tsconfig.json), which reads
 * `main`, `types` and `typesVersions` and never `exports`, and with `nodenext`
 * (tsconfig.nodenext.json), which reads `exports` and, from TypeScript 5.8, lets CommonJS import
 * ES modules as Node >= 20.19 does with require().
 */
import { generateKey, keyId } from '@sealstream/core';
import { isSealstreamError } from '@sealstream/core/errors';
import { createSosClient, type Encryption } from '@sealstream/sos';

const key: Uint8Array = generateKey();
const encryption: Encryption = { clientSide: { keys: [key] } };
export const used = [keyId(key), isSealstreamError(null), createSosClient, encryption];
