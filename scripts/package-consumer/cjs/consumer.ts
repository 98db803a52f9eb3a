/**
 * A CommonJS TypeScript user with the legacy `moduleResolution: node10`, which reads `main`,
 * `types` and `typesVersions` and never `exports`.
 */
import { generateKey, keyId } from '@sealstream/core';
import { isSealstreamError } from '@sealstream/core/errors';
import { createSosClient, type Encryption } from '@sealstream/sos';

const key: Uint8Array = generateKey();
const encryption: Encryption = { clientSide: { keys: [key] } };
export const used = [keyId(key), isSealstreamError(null), createSosClient, encryption];
