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
export { createOpener, type DecryptStreamOptions, decrypt, decryptStream } from './decrypt.ts';
export { createSealer, type EncryptOptions, encrypt, encryptStream } from './encrypt.ts';
export { type ErrorCode, isSealstreamError, SealstreamError } from './errors.ts';
export {
  type HeaderInfo,
  inspectHeader,
  MAX_HEADER_LENGTH,
  type RecipientInfo,
  readHeaderLength,
} from './header.ts';
export { DEFAULT_MAX_WORK_FACTOR, Keyring, type KeysInput } from './keyring.ts';
export { formatKey, generateKey, KEY_LENGTH, type KeyInput, keyId, parseKey } from './keys.ts';
export { type DecryptOptions, OpenedObject, openHeader, openPrefixLength, type RangePlan } from './open.ts';
export { openedLength, PayloadOpener, PayloadSealer, sealedLength } from './payload.ts';
export { DEFAULT_WORK_FACTOR, type PassphraseRecipient, type Recipient } from './recipients.ts';
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
