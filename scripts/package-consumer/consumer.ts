/**
 * A TypeScript user of the published packages (ESM, `moduleResolution: nodenext`), type-checked
 * by scripts/check-packages.sh with the oldest supported and the current TypeScript.
 */
import { type DecryptOptions, decrypt, encrypt, generateKey, keyId, SealstreamError } from '@sealstream/core';
import { type ErrorCode, isSealstreamError } from '@sealstream/core/errors';
import {
  createSosClient,
  type Encryption,
  type GetObjectResult,
  isSosError,
  putObject,
} from '@sealstream/sos';
import { isSosError as isSosErrorToo } from '@sealstream/sos/errors';
import { presignGet } from '@sealstream/sos/presign';
import { PresignedSource, uploadSealed } from '@sealstream/sos/presigned';
import * as zones from '@sealstream/sos/zones';

const key: Uint8Array = generateKey();
const sealed: Uint8Array = await encrypt(new TextEncoder().encode('hello'), { recipients: [key] });
const options: DecryptOptions = { keys: [key] };
const opened: Uint8Array = await decrypt(sealed, options);
const code: ErrorCode | undefined = isSealstreamError(undefined) ? 'INTERNAL' : undefined;
const encryption: Encryption = { clientSide: { keys: [key], identity: true } };
const size = (r: GetObjectResult): number => r.size;

// internal names are stripped from the published types
// @ts-expect-error `_random` is @internal
await encrypt(new Uint8Array(0), { recipients: [key], _random: (n: number) => new Uint8Array(n) });

export const used = [keyId(key), opened, code, encryption, size, createSosClient, putObject, isSosError];
export const errorClass: typeof SealstreamError = SealstreamError;
export const subpaths = [isSosErrorToo, presignGet, PresignedSource, uploadSealed, zones];
