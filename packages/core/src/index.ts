/**
 * @sealstream/core: streaming client-side encryption for object storage.
 *
 * Format: sealstream v1 (see SPEC.md): an envelope header with per-recipient wrapped data keys,
 * followed by a C2SP chunked-encryption (Cobblestone-256) payload.
 * @module
 */
export type {
  BackendChoice,
  BackendName,
  BackendReport,
  ChunkCipher,
  CipherBackend,
} from './aead/backend.ts';
export { BACKEND_ENV, backendReport, resolveBackend } from './aead/backend.ts';
export {
  formatPrivateKeyFile,
  formatRecipientsFile,
  generatePrivateKey,
  parseAgeKeyText,
  parsePrivateKey,
  parsePrivateKeysFile,
  parseRecipient,
  parseRecipientsFile,
} from './age-keys.ts';
export {
  createOpener,
  createOpenerFromReader,
  type DecryptStreamOptions,
  decrypt,
  decryptStream,
  type ReadFull,
} from './decrypt.ts';
export { createSealer, type EncryptOptions, encrypt, encryptStream } from './encrypt.ts';
export { type ErrorCode, isSealstreamError, SealstreamError } from './errors.ts';
export {
  type HeaderInfo,
  inspectHeader,
  MAX_HEADER_LENGTH,
  type RecipientInfo,
  readHeaderLength,
} from './header.ts';
export {
  DEFAULT_MAX_WORK_FACTOR,
  Keyring,
  type KeysInput,
  type Unwrapped,
  type WorkLimits,
} from './keyring.ts';
export { formatKey, generateKey, KEY_LENGTH, type KeyInput, keyId, parseKey } from './keys.ts';
export { type DecryptOptions, OpenedObject, openHeader, openPrefixLength, type RangePlan } from './open.ts';
export { type PassphraseWorkExcess, passphraseWorkExcess } from './passphrase-work.ts';
export { openedLength, PayloadOpener, PayloadSealer, sealedLength } from './payload.ts';
export {
  type ByteRange,
  DEFAULT_PARALLEL_WINDOWS,
  DEFAULT_WINDOW_SIZE,
  FIRST_READ,
  inspectSealed,
  type OpenSealedOptions,
  openSealed,
  type Rewrapped,
  type SealedFacts,
  type SealedObject,
} from './reader.ts';
export type { PassphraseInput, Recipient } from './recipients/input.ts';
export { RawKeyRecipient } from './recipients/key.ts';
export type {
  StanzaUnwrapper,
  StanzaWrapper,
  UnwrapEnvironment,
  UnwrapLimits,
  WrapEnvironment,
} from './recipients/plugin.ts';
export { PrivateKey, PublicKeyRecipient, type PublicKeyType } from './recipients/public-key.ts';
export {
  DEFAULT_MAX_TOTAL_WORK_FACTOR,
  DEFAULT_WORK_FACTOR,
  MAX_LOG_N,
  MIN_LOG_N,
  PassphraseRecipient,
} from './recipients/scrypt.ts';
export {
  createResumableSealing,
  type PlaintextReader,
  ResumableSealing,
  type ResumeSealingOptions,
  resumeSealing,
} from './resume.ts';
export type { RewrapOptions } from './rewrap.ts';
export {
  CHUNK_SIZE,
  chunkCount,
  ciphertextSize,
  type HeaderLength,
  MAX_PLAINTEXT_SIZE,
  PAYLOAD_PREFIX_LENGTH,
  plaintextSize,
  SEALED_CHUNK_SIZE,
} from './sizes.ts';
export { type ByteSource, bytesSource, type SequentialRead } from './source.ts';
export { makeStanza, type Stanza } from './stanza.ts';
export { createWorkerPool, WorkerPool, type WorkerPoolOptions } from './worker/pool.ts';
export type { WorkersOption } from './worker/streams.ts';
