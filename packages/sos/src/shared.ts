/**
 * What the Node and browser entries of `@sealstream/sos` export alike: everything but
 * `createSosClient` and `putObject`'s file paths, which differ at their I/O edges (index.ts,
 * index.browser.ts).
 * @module
 */
export type { BodyInput, SizedBody } from './body.ts';
export { isLoopback, type SosCredentials } from './client-options.ts';
export { sdkCorsRule } from './cors.ts';
export type { Encryption, SseCOptions } from './encryption.ts';
export { isSosError, SosError, type SosErrorCode, UploadNotAbortedError } from './errors.ts';
export {
  type AbortIncompleteUploadOptions,
  abortIncompleteUpload,
  type IncompleteUpload,
  incompleteUploadPages,
  type ListIncompleteUploadsOptions,
  listIncompleteUploads,
} from './incomplete.ts';
export { parseSseCKeyMap, type SseCKeyMap, type SseCKeyMapEntry } from './key-map.ts';
export {
  type GetObjectOptions,
  type GetObjectResult,
  getObject,
  type HeadObjectOptions,
  type HeadObjectResult,
  headObject,
  type ObjectLocation,
  type ObjectSourceOptions,
  openObjectSource,
  type PutObjectOptions,
  type PutObjectResult,
} from './objects.ts';
export { type ParsedRange, parseRange, type RangeInput, type ResolvedRange, resolveRange } from './range.ts';
export { type RekeyObjectOptions, type RekeyObjectResult, rekeyObject } from './rekey.ts';
export { type ObjectFacts, type ObjectPin, type S3ObjectRef, S3RangeSource } from './s3-source.ts';
export { type SseCParams, sseCParams } from './sse-c.ts';
export { DEFAULT_TIMEOUTS, type SosTimeouts } from './timeouts.ts';
export { choosePartSize, growingPartSize, LIMITS, type UploadProgress } from './upload.ts';
export { isSosZone, SOS_ZONES, type SosZone, sosEndpoint } from './zones.ts';
