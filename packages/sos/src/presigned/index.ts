/**
 * `@sealstream/sos/presigned`: sealed uploads to and downloads from presigned URLs, for pages and
 * workers that never hold store credentials. Runtime-neutral (no Node built-in, no Buffer, no
 * process); the server side that presigns is `@sealstream/sos/presign`.
 * @module
 */
/**
 * Core's reader, re-exported: `openSealed(await PresignedSource.open(url), { keys })`, and
 * `inspectSealed(source)` for the header without keys.
 */
export {
  type ByteRange,
  type ByteSource,
  inspectSealed,
  type OpenSealedOptions,
  openSealed,
  type SealedFacts,
  type SealedObject,
} from '@sealstream/core';
export { PresignedSource, type UrlSource } from './download.ts';
export {
  isPresignedTransferError,
  type PresignedErrorCode,
  type PresignedErrorDetails,
  PresignedTransferError,
} from './errors.ts';
export type { HttpOptions } from './http.ts';
export {
  DEFAULT_PART_SIZE,
  DEFAULT_PARTS_IN_FLIGHT,
  MAX_PARTS,
  MIN_PART_SIZE,
  type SealedUploadProgress,
  type SealedUploadResult,
  type UploadedPart,
  type UploadPresigner,
  type UploadSealedOptions,
  uploadSealed,
} from './upload.ts';
