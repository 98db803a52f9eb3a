/**
 * The exit code of each error code. The mapping is a full `Record` over the core's and the
 * transport's codes, so a code added to either fails the type check until it is mapped; this
 * checks that the transport's fault codes land on "network or store" (6), not "usage" (2).
 */
import { SealstreamError } from '@sealstream/core';
import { SosError, type SosErrorCode } from '@sealstream/sos';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT, exitCodeOf, hintFor, outputError } from '../src/exit.ts';

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
