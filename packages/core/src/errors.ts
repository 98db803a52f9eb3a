/**
 * Errors thrown by sealstream. Every error is a {@link SealstreamError} with a stable `code`
 * (SPEC §9), so callers can `switch (err.code)` instead of matching messages.
 * @module
 */

/** Stable error codes (SPEC §9). */
export type ErrorCode =
  | 'HEADER_INVALID'
  | 'HEADER_TOO_LARGE'
  | 'UNSUPPORTED_VERSION'
  | 'UNSUPPORTED_SUITE'
  | 'WORK_FACTOR_TOO_HIGH'
  | 'NO_MATCHING_KEY'
  | 'COMMITMENT_MISMATCH'
  | 'IDENTITY_MISMATCH'
  | 'CHUNK_AUTH_FAILED'
  | 'TRUNCATED'
  | 'TRAILING_DATA'
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'RANGE_NOT_SATISFIABLE'
  | 'BACKEND_UNAVAILABLE'
  | 'INTERNAL';

/** Base class of every error sealstream throws. `code` is stable across versions. */
export class SealstreamError<C extends string = ErrorCode> extends Error {
  /** Stable, machine-readable error code. */
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'SealstreamError';
  }
}

/** True when `err` is a {@link SealstreamError}, optionally with the given code. */
export function isSealstreamError(err: unknown, code?: string): err is SealstreamError<string> {
  return err instanceof SealstreamError && (code === undefined || err.code === code);
}

/** Throws a {@link SealstreamError} with `code` unless `condition` holds. */
export function needs(condition: unknown, code: ErrorCode, message: string): asserts condition {
  if (!condition) throw new SealstreamError(code, message);
}
