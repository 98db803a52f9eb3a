/**
 * The exit code of each error code. The mapping is a full `Record` over the core's and the
 * transport's codes, so a code added to either fails the type check until it is mapped; this
 * checks that the transport's fault codes land on "network or store" (6), not "usage" (2).
 */
import { SealstreamError } from '@sealstream/core';
import { SosError, type SosErrorCode } from '@sealstream/sos';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT, exitCodeOf, hintFor, outputError } from '../src/exit.ts';
import { hintOf } from '../src/failure.ts';

describe('exit codes', () => {
  it('faults of the store and of the way to it are exit 6, with a hint', () => {
    const faults: SosErrorCode[] = [
      'TIMEOUT',
      'SERVER_FAULT',
      'OBJECT_CHANGED',
      'DOWNLOAD_INCOMPLETE',
      'UPLOAD_NOT_ABORTED',
    ];
    for (const code of faults) expect(exitCodeOf(new SosError(code, 'x')), code).toBe(EXIT.NETWORK);
    for (const code of ['TIMEOUT', 'SERVER_FAULT', 'OBJECT_CHANGED', 'DOWNLOAD_INCOMPLETE'] as const)
      expect(hintFor(new SosError(code, 'x')), code).toBeDefined();
  });

  it('caller mistakes stay usage errors; keys, integrity and interruption keep their codes', () => {
    expect(exitCodeOf(new SosError('INVALID_ARGUMENT', 'x'))).toBe(EXIT.USAGE);
    expect(exitCodeOf(new SosError('SSE_C_NO_KEY_FOR_PATH', 'x'))).toBe(EXIT.KEY);
    expect(exitCodeOf(new SealstreamError('CHUNK_AUTH_FAILED', 'x'))).toBe(EXIT.INTEGRITY);
    expect(exitCodeOf(new SosError('ABORTED', 'x'))).toBe(EXIT.INTERRUPTED);
    // a code of a newer version, unknown here: other error, never a crash
    expect(exitCodeOf(new SealstreamError('SOMETHING_NEW' as never, 'x'))).toBe(EXIT.ERROR);
  });

  it("the store's refusals, now transport codes, exit as the S3 errors behind them did; the credential hint still applies", () => {
    const sdk = (name: string, status: number) =>
      Object.assign(new Error('UnknownError'), {
        name,
        $fault: 'client',
        $metadata: { httpStatusCode: status },
      });
    const cases: [string, number, SosErrorCode, number][] = [
      ['NoSuchKey', 404, 'NOT_FOUND', EXIT.NOT_FOUND],
      ['NotFound', 404, 'NOT_FOUND', EXIT.NOT_FOUND],
      ['NoSuchBucket', 404, 'BUCKET_NOT_FOUND', EXIT.NOT_FOUND],
      ['NoSuchUpload', 404, 'UPLOAD_NOT_FOUND', EXIT.NOT_FOUND],
      ['AccessDenied', 403, 'ACCESS_DENIED', EXIT.KEY],
      ['Unknown', 403, 'ACCESS_DENIED', EXIT.KEY],
      ['InvalidAccessKeyId', 403, 'BAD_CREDENTIALS', EXIT.KEY],
      ['SignatureDoesNotMatch', 403, 'BAD_CREDENTIALS', EXIT.KEY],
      ['ExpiredToken', 400, 'BAD_CREDENTIALS', EXIT.KEY],
    ];
    for (const [name, status, code, exit] of cases) {
      const cause = sdk(name, status);
      expect(exitCodeOf(cause), name).toBe(exit);
      expect(exitCodeOf(new SosError(code, 'x', { cause })), code).toBe(exit);
    }
    const refused = new SosError('BAD_CREDENTIALS', 'x', { cause: sdk('SignatureDoesNotMatch', 403) });
    expect(hintOf(refused)).toMatch(/AWS_SECRET_ACCESS_KEY/);
    expect(hintFor(new SosError('ACCESS_DENIED', 'x'))).toMatch(/--profile/);
  });

  it('failed writes are exit 7 and say what happened', () => {
    const epipe = outputError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'stdout', 'x');
    expect(epipe).toBeInstanceOf(CliError);
    expect(exitCodeOf(epipe)).toBe(EXIT.OUTPUT);
    expect(epipe.message).toBe('stdout: the reader closed the pipe before all output was written (EPIPE); x');
    const enospc = outputError(Object.assign(new Error('nospc'), { code: 'ENOSPC' }), 'writing f', 'y');
    expect(enospc.message).toBe('writing f: no space left on the device (ENOSPC); y');
    // a network EPIPE (not a write of ours) stays a network error
    expect(exitCodeOf(Object.assign(new Error('socket'), { code: 'EPIPE' }))).toBe(EXIT.NETWORK);
  });
});
