/**
 * Exit codes (stable, documented in the README) and the error class the commands throw.
 * Every failure is classified once, here, from a stable error `code`, an S3 status or a system
 * error code; never from message text.
 * @module
 */
import { type ErrorCode, isSealstreamError } from '@sealstream/core/errors';
import type { SosErrorCode } from '@sealstream/sos';

/** Stable exit codes of the `sealstream` command. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** Any other failure: local I/O error, unexpected error. */
  ERROR: 1,
  /** Bad command line: unknown flag, missing argument, conflicting options, no endpoint configured. */
  USAGE: 2,
  /** Keys and credentials: no key given opens the data, a malformed key, a missing or wrong SSE-C key, credentials refused. */
  KEY: 3,
  /** The data failed authentication or is not readable: corrupted, truncated, tampered, bound to another identity, not sealstream. */
  INTEGRITY: 4,
  /** A local file, bucket or object does not exist. */
  NOT_FOUND: 5,
  /**
   * The store could not be reached (connection, DNS, TLS, timeout), answered with a server error,
   * a download kept ending early, or the object changed while it was read: trying again may help.
   */
  NETWORK: 6,
  /** The output could not be written: disk full (ENOSPC), the reader of stdout went away (EPIPE), an I/O error. */
  OUTPUT: 7,
  /** Interrupted by SIGINT (Ctrl-C); the message says what the run left (output already on stdout). */
  INTERRUPTED: 130,
  /** Terminated by SIGTERM; as for SIGINT. */
  TERMINATED: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error of the CLI itself, carrying its exit code. Its message never holds key material. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(exitCode: ExitCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hint = options?.hint;
  }
}

/** A usage error (exit 2). */
export function usage(message: string, hint?: string): CliError {
  return new CliError(EXIT.USAGE, message, hint === undefined ? undefined : { hint });
}

/**
 * Exit code of every stable error code of the core (SPEC §9) and the transport. Typed as a full
 * record: a code added to either package fails the type check until it is mapped here.
 */
const BY_CODE: Record<ErrorCode | SosErrorCode, ExitCode> = {
  // core (SPEC §9)
  HEADER_INVALID: EXIT.INTEGRITY,
  HEADER_TOO_LARGE: EXIT.INTEGRITY,
  UNSUPPORTED_VERSION: EXIT.INTEGRITY,
  UNSUPPORTED_SUITE: EXIT.INTEGRITY,
  WORK_FACTOR_TOO_HIGH: EXIT.KEY,
  NO_MATCHING_KEY: EXIT.KEY,
  COMMITMENT_MISMATCH: EXIT.INTEGRITY,
  IDENTITY_MISMATCH: EXIT.INTEGRITY,
  CHUNK_AUTH_FAILED: EXIT.INTEGRITY,
  TRUNCATED: EXIT.INTEGRITY,
  TRAILING_DATA: EXIT.INTEGRITY,
  INVALID_KEY: EXIT.KEY,
  // a caller's mistake: in the CLI, a bad flag value
  INVALID_ARGUMENT: EXIT.USAGE,
  RANGE_NOT_SATISFIABLE: EXIT.USAGE,
  BACKEND_UNAVAILABLE: EXIT.ERROR,
  INTERNAL: EXIT.ERROR,
  // transport
  INSECURE_ENDPOINT: EXIT.USAGE,
  UNKNOWN_ZONE: EXIT.USAGE,
  INVALID_KEY_MAP: EXIT.KEY,
  SSE_C_NO_KEY_FOR_PATH: EXIT.KEY,
  SSE_C_KEY_REQUIRED: EXIT.KEY,
  SSE_C_KEY_MISMATCH: EXIT.KEY,
  SSE_C_NOT_APPLIED: EXIT.KEY,
  ABORTED: EXIT.INTERRUPTED,
  // the store's refusals, as the S3 names behind them exit (S3_NOT_FOUND, S3_AUTH below)
  NOT_FOUND: EXIT.NOT_FOUND,
  BUCKET_NOT_FOUND: EXIT.NOT_FOUND,
  UPLOAD_NOT_FOUND: EXIT.NOT_FOUND,
  ACCESS_DENIED: EXIT.KEY,
  BAD_CREDENTIALS: EXIT.KEY,
  // the store or the way to it failed: worth trying again later
  TIMEOUT: EXIT.NETWORK,
  SERVER_FAULT: EXIT.NETWORK,
  DOWNLOAD_INCOMPLETE: EXIT.NETWORK,
  UPLOAD_NOT_ABORTED: EXIT.NETWORK,
  // not tampering: the object was replaced while it was read; reading it again gives the new one
  OBJECT_CHANGED: EXIT.NETWORK,
  // resumable uploads: the file changed since the upload began (not a fault of the data: the
  // user decides between --restart and aborting), the keys differ from the upload's, resume asked
  // of a body that cannot be read again (stdin), a journal that cannot be used
  SOURCE_CHANGED: EXIT.ERROR,
  RESUME_KEY_MISMATCH: EXIT.KEY,
  NOT_RESUMABLE: EXIT.USAGE,
  JOURNAL_INVALID: EXIT.ERROR,
  JOURNAL_LOCKED: EXIT.ERROR,
};

/** True when `code` is one that {@link BY_CODE} maps. */
function isKnownCode(code: string): code is ErrorCode | SosErrorCode {
  return Object.hasOwn(BY_CODE, code);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

const S3_NOT_FOUND = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound', 'NoSuchUpload']);
const S3_AUTH = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'CredentialsProviderError',
]);

/** What the system error codes of a failed write mean, for the message. */
/** Why a local file could not be read (or a folder made), in words. */
const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EROFS: 'the file system is read-only',
  ENAMETOOLONG: 'a name in the path is longer than the file system allows (ENAMETOOLONG)',
};

/**
 * The error for a local file that cannot be read (an input, a key file), or a folder that cannot
 * be made: exit code {@link EXIT.NOT_FOUND} when it does not exist, else {@link EXIT.ERROR}.
 * @param what - What could not be read or made, e.g. `--key-file k` or `input secret.txt`.
 */
export function localError(cause: unknown, what: string, verb = 'cannot be read'): CliError {
  if (cause instanceof CliError) return cause;
  const code = (cause as { code?: string } | null)?.code;
  const why = (code && READ_FAILURES[code]) ?? code ?? (cause as { message?: string } | null)?.message;
  return new CliError(code === 'ENOENT' ? EXIT.NOT_FOUND : EXIT.ERROR, `${what} ${verb}: ${why}`, { cause });
}

const WRITE_FAILURES: Record<string, string> = {
  EPIPE: 'the reader closed the pipe before all output was written (EPIPE)',
  ENOSPC: 'no space left on the device (ENOSPC)',
  EDQUOT: 'disk quota exceeded (EDQUOT)',
  EFBIG: 'the file grew larger than the file system allows (EFBIG)',
  EIO: 'input/output error of the device (EIO)',
  EROFS: 'the file system is read-only (EROFS)',
  EBADF: 'the output is not open for writing (EBADF)',
  ENAMETOOLONG: 'its name is longer than the file system allows (ENAMETOOLONG)',
};

/**
 * The error for a write that failed (stdout or an output file), with exit code {@link EXIT.OUTPUT}.
 * @param where - What was being written, e.g. `stdout` or `writing out.tar`.
 * @param left - What the failure leaves behind, for the user, e.g. `nothing was left behind`.
 */
export function outputError(cause: unknown, where: string, left: string): CliError {
  if (cause instanceof CliError) return cause;
  const code = (cause as { code?: string } | null)?.code;
  const known = code === undefined ? undefined : WRITE_FAILURES[code];
  const what = known ?? code ?? (cause as { message?: string } | null)?.message ?? String(cause);
  return new CliError(EXIT.OUTPUT, `${where}: ${what}; ${left}`, { cause });
}

/** Exit code for any error thrown by a command. */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (isSealstreamError(err)) return isKnownCode(err.code) ? BY_CODE[err.code] : EXIT.ERROR;
  const e = err as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $fault?: string;
    cause?: unknown;
  };
  if (e === null || typeof e !== 'object') return EXIT.ERROR;
  if (e.name && S3_NOT_FOUND.has(e.name)) return EXIT.NOT_FOUND;
  if (e.name && S3_AUTH.has(e.name)) return EXIT.KEY;
  const status = e.$metadata?.httpStatusCode;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 401 || status === 403) return EXIT.KEY;
  if (status !== undefined && status >= 500) return EXIT.NETWORK;
  if (e.code === 'ENOENT') return EXIT.NOT_FOUND;
  if (
    e.code &&
    (NETWORK_CODES.has(e.code) || e.code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED/.test(e.code))
  )
    return EXIT.NETWORK;
  if (e.name === 'TimeoutError') return EXIT.NETWORK;
  if (e.cause !== undefined && e.cause !== err) {
    const inner = exitCodeOf(e.cause);
    if (inner !== EXIT.ERROR) return inner;
  }
  if (status !== undefined && status >= 400) return EXIT.NETWORK;
  return EXIT.ERROR;
}

/** A one-line description of an error for the terminal: what happened, with the S3 code when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof CliError) return err.message;
  // the transport's advice is for library callers; the CLI gives its own hint
  if (isSealstreamError(err)) return err.message.replace(/; pass encryption: .*$/, '');
  const e = err as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (e === null || typeof e !== 'object') return String(err);
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) {
    const what = e.name && e.name !== 'Unknown' && e.name !== 'Error' ? e.name : 'error';
    const message = e.message && e.message !== 'UnknownError' && e.message !== e.name ? `: ${e.message}` : '';
    return `the store answered ${status} ${what}${message}`;
  }
  return e.message ?? String(err);
}

/** Runs `fn`, naming `what` in the message of any error that does not already say what failed. */
export async function inContext<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CliError || isSealstreamError(err)) throw err;
    throw new CliError(exitCodeOf(err), `${what}: ${describeError(err)}`, { cause: err });
  }
}

const HINTS: Partial<Record<ErrorCode | SosErrorCode, string>> = {
  SSE_C_KEY_REQUIRED: 'give the SSE-C key with --sse-c-file FILE (or --sse-c-key fileb://FILE, --enc-c)',
  SSE_C_KEY_MISMATCH: 'the SSE-C key given is not the one the object was stored with',
  SSE_C_NOT_APPLIED: 'the object is not stored with SSE-C: drop --sse-c, --sse-c-file or --encrypt-key',
  // the message says what to check; this names where the CLI takes credentials from
  ACCESS_DENIED:
    'check the credentials used (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the --profile) and their rights on this bucket',
  NO_MATCHING_KEY:
    'give the right key with --key-file FILE or -i FILE (repeatable), or the passphrase; `sealstream inspect` shows the key IDs it is sealed to',
  HEADER_INVALID: '`sealstream inspect` tells whether this is a sealstream file',
  TIMEOUT:
    'the store did not answer in time: check the network and the endpoint, then try again (bounds: --connect-timeout, --read-timeout, --request-timeout)',
  SERVER_FAULT: 'the store answered something unusable: try again later',
  DOWNLOAD_INCOMPLETE: 'the download kept stopping early: check the network, then try again',
  OBJECT_CHANGED: 'the object was replaced while it was read: run the command again to read the new one',
  SOURCE_CHANGED:
    'the file changed since its upload began: run the same command with --restart to upload it as it is now, or `sealstream uploads abort` the old upload',
  RESUME_KEY_MISMATCH:
    'give the keys the interrupted upload began with, or run the same command with --restart to start over under these keys',
  NOT_RESUMABLE: 'only files can be resumed: stdin and pipes cannot be read again from where they stopped',
  JOURNAL_INVALID: 'run the same command with --restart to start over (the journal is replaced)',
  WORK_FACTOR_TOO_HIGH:
    'the passphrase stanza asks for more scrypt work than the limit; if you trust where the data came from, raise it with --max-work-factor N',
};

/** A hint for an error, if there is a useful one. */
export function hintFor(err: unknown): string | undefined {
  if (err instanceof CliError) return err.hint;
  if (isSealstreamError(err)) return isKnownCode(err.code) ? HINTS[err.code] : undefined;
  return undefined;
}
