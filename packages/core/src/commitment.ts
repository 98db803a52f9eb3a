/**
 * The key commitment check (SPEC §6.2): the step between a recovered data key and any chunk.
 * @module
 */
import { equalConstantTime } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import type { ParsedHeader } from './header.ts';
import { derivePayloadKeys, type PayloadKeys } from './kdf.ts';
import { COMMITMENT_LENGTH, PAYLOAD_PREFIX_LENGTH, SALT_LENGTH } from './sizes.ts';

/**
 * Derives the payload keys from a data key and checks them against the commitment that follows the
 * header (SPEC §6.2). `bytes` holds the header and the 56-byte payload prefix.
 * @throws {SealstreamError} `TRUNCATED` without the payload prefix, `COMMITMENT_MISMATCH`.
 */
export function committedPayloadKeys(
  header: ParsedHeader,
  bytes: Uint8Array,
  dataKey: Uint8Array,
): PayloadKeys {
  const h = header.headerLength;
  const salt = bytes.subarray(h, h + SALT_LENGTH);
  const commitment = bytes.subarray(h + SALT_LENGTH, h + SALT_LENGTH + COMMITMENT_LENGTH);
  const keys = derivePayloadKeys(dataKey, salt, header.context);
  if (!equalConstantTime(keys.commitment, commitment)) {
    throw new SealstreamError(
      'COMMITMENT_MISMATCH',
      'the key commitment does not match: the header or payload prefix was tampered with, or a recipient stanza was taken from another object',
    );
  }
  return keys;
}

/**
 * Checks that `bytes` holds the payload prefix after the header, before any key work.
 * @throws {SealstreamError} `TRUNCATED`.
 */
export function checkPayloadPrefix(header: ParsedHeader, bytes: Uint8Array): void {
  if (bytes.length < header.headerLength + PAYLOAD_PREFIX_LENGTH) {
    throw new SealstreamError(
      'TRUNCATED',
      'the data ends before the payload salt and commitment: it was truncated',
    );
  }
}
