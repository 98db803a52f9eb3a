/**
 * How a failed run is reported: a stable error code for `--json` (the library's code when the
 * failure has one, else the exit code's name) and hints for failures whose cause the user can fix
 * but the message does not name: a certificate the system does not trust, credentials missing or
 * refused, a plain http endpoint.
 * @module
 */
import { isSealstreamError } from '@sealstream/core/errors';
import { describeError, EXIT, type ExitCode, exitCodeOf, hintFor } from './exit.ts';

/** The name of each exit code: the `code` of a failure that has no more precise one. */
const EXIT_NAMES: Record<ExitCode, string> = {
  [EXIT.OK]: 'OK',
  [EXIT.ERROR]: 'ERROR',
  [EXIT.USAGE]: 'USAGE',
  [EXIT.KEY]: 'KEY',
  [EXIT.INTEGRITY]: 'INTEGRITY',
  [EXIT.NOT_FOUND]: 'NOT_FOUND',
  [EXIT.NETWORK]: 'NETWORK',
  [EXIT.OUTPUT]: 'OUTPUT',
  [EXIT.INTERRUPTED]: 'INTERRUPTED',
  [EXIT.TERMINATED]: 'TERMINATED',
};

/** The errors of a failure, outermost first (its `cause` chain, without cycles). */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (
    let e = err;
    e !== null && typeof e === 'object' && !out.includes(e);
    e = (e as { cause?: unknown }).cause
  ) {
    out.push(e);
  }
  return out;
}

/**
 * The stable code of a failure: the first core or transport code in its cause chain (SPEC §9, the
 * transport's codes), else the name of its exit code (`USAGE`, `KEY`, `NOT_FOUND`, ...).
 */
export function errorCodeOf(err: unknown): string {
  const coded = chain(err).find((e) => isSealstreamError(e));
  if (coded !== undefined) return (coded as { code: string }).code;
  return EXIT_NAMES[exitCodeOf(err)];
}

const TLS_CODES =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID)$/;
const CREDENTIAL_NAMES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'CredentialsProviderError',
  'ExpiredToken',
  'InvalidToken',
]);

/** A hint for a failure: the command's own, else one for certificate, credential and http failures. */
export function hintOf(err: unknown): string | undefined {
  const own = hintFor(err);
  if (own !== undefined) return own;
  for (const e of chain(err)) {
    const { code, name } = e as { code?: string; name?: string };
    if (code !== undefined && TLS_CODES.test(code)) {
      return code === 'CERT_HAS_EXPIRED'
        ? "the store's TLS certificate has expired"
        : code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? "the store's TLS certificate is for another host name: check the endpoint"
          : "the store's TLS certificate is not signed by a CA this machine trusts (a self-signed or private CA?): give the CA certificate with --ca-bundle FILE (or AWS_CA_BUNDLE, or ca_bundle in the profile)";
    }
    if (name !== undefined && CREDENTIAL_NAMES.has(name)) {
      return name === 'CredentialsProviderError'
        ? 'no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile NAME of ~/.aws/credentials'
        : 'the store refused the credentials: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the --profile used (and the clock, for SignatureDoesNotMatch)';
    }
    if (isSealstreamError(e, 'INSECURE_ENDPOINT')) {
      return 'use an https endpoint; for a test server on this machine (127.0.0.1, ::1, localhost), pass --allow-http';
    }
  }
  return undefined;
}

/** The `--json` form of a failure: `{ "error": { code, exitCode, message, hint? } }`. Never holds a key (messages never do). */
export function failureJson(err: unknown): Record<string, unknown> {
  const hint = hintOf(err);
  return {
    error: {
      code: errorCodeOf(err),
      exitCode: exitCodeOf(err),
      message: describeError(err),
      ...(hint !== undefined ? { hint } : {}),
    },
  };
}

/** The `--json` form of a command-line parse failure (commander's message). */
export function usageJson(message: string): Record<string, unknown> {
  return { error: { code: EXIT_NAMES[EXIT.USAGE], exitCode: EXIT.USAGE, message } };
}
