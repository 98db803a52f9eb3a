/**
 * Size arithmetic of the format (SPEC §8): plaintext and ciphertext sizes, chunk positions.
 * @module
 */
import { SealstreamError } from './errors.ts';

/** Plaintext bytes per chunk (SPEC §6.3). */
export const CHUNK_SIZE = 16384;
/** AES-GCM tag length. */
export const TAG_LENGTH = 16;
/** A sealed full chunk: ciphertext and tag. */
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_LENGTH;
/** Payload salt length (SPEC §6.1). */
export const SALT_LENGTH = 24;
/** Payload key commitment length (SPEC §6.2). */
export const COMMITMENT_LENGTH = 32;
/** Bytes before the first chunk of a payload: salt and commitment. */
export const PAYLOAD_PREFIX_LENGTH = SALT_LENGTH + COMMITMENT_LENGTH;
/** Most chunks a payload may have (C2SP). */
export const MAX_CHUNKS = 2 ** 38;
/** Largest plaintext: 4 PiB - 1 byte. */
export const MAX_PLAINTEXT_SIZE = 2 ** 52 - 1;

/** A header length, or anything that carries one (a parsed header, an opened object). */
export type HeaderLength = number | { readonly headerLength: number };

const headerLengthOf = (h: HeaderLength) => (typeof h === 'number' ? h : h.headerLength);

/** Number of chunks, the final short one included, for a plaintext of `size` bytes. */
export function chunkCount(size: number): number {
  checkSize(size, 'plaintext size');
  return Math.floor(size / CHUNK_SIZE) + 1;
}

/** Size of the payload (salt, commitment, chunks) for a plaintext of `size` bytes. */
export function payloadSize(size: number): number {
  return PAYLOAD_PREFIX_LENGTH + size + TAG_LENGTH * chunkCount(size);
}

/**
 * Total encrypted size of a plaintext of `size` bytes under a header of `header` bytes (SPEC §8).
 * @example
 * ciphertextSize(1_000_000, info.headerLength);
 */
export function ciphertextSize(size: number, header: HeaderLength): number {
  return headerLengthOf(header) + payloadSize(size);
}

/**
 * Plaintext size of an encrypted object of `size` bytes whose header is `header` bytes (SPEC §8).
 * Each length has at most one valid chunking, so the size is exact without reading the payload.
 * @throws {SealstreamError} `TRUNCATED` when no plaintext has that ciphertext length.
 */
export function plaintextSize(size: number, header: HeaderLength): number {
  checkSize(size, 'ciphertext size');
  const h = headerLengthOf(header);
  const x = size - h - PAYLOAD_PREFIX_LENGTH;
  const full = Math.floor(x / SEALED_CHUNK_SIZE);
  const rest = x - full * SEALED_CHUNK_SIZE;
  if (x < TAG_LENGTH || rest < TAG_LENGTH) {
    throw new SealstreamError(
      'TRUNCATED',
      `an encrypted object of ${size} bytes with a ${h}-byte header is not a valid length: it was truncated or extended`,
    );
  }
  return full * CHUNK_SIZE + rest - TAG_LENGTH;
}

/** Ciphertext offset of chunk `index` in an object whose header is `header` bytes. */
export function chunkOffset(index: number, header: HeaderLength): number {
  return headerLengthOf(header) + PAYLOAD_PREFIX_LENGTH + index * SEALED_CHUNK_SIZE;
}

function checkSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new SealstreamError('INVALID_ARGUMENT', `${what} must be a non-negative safe integer, got ${size}`);
  }
}
