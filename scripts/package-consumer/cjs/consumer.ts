/**
 * A CommonJS TypeScript user: with the legacy `moduleResolution: node10` (tsconfig.json), which reads
 * `main`, `types` and `typesVersions` and never `exports`, and with `nodenext`
 * (tsconfig.nodenext.json), which reads `exports` and, from TypeScript 5.8, lets CommonJS import
 * ES modules as Node >= 20.19 does with require().
 */
import { generateKey, keyId } from '@sealstream/core';
import { isSealstreamError } from '@sealstream/core/errors';
import type * as sealWorker from '@sealstream/core/seal-worker';
import { createSosClient, type Encryption } from '@sealstream/sos';
import { isSosError } from '@sealstream/sos/errors';
import { presignGet } from '@sealstream/sos/presign';
import { PresignedSource, uploadSealed } from '@sealstream/sos/presigned';
import * as zones from '@sealstream/sos/zones';

const key: Uint8Array = generateKey();
const encryption: Encryption = { clientSide: { keys: [key] } };
export type Worker = typeof sealWorker;
export const used = [keyId(key), isSealstreamError(null), createSosClient, encryption];
export const subpaths = [isSosError, presignGet, PresignedSource, uploadSealed, zones];
