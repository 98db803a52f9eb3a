/**
 * The decision table of `timeoutKind` / `mapTransportError`, on the errors the SDK's handlers and
 * our own deadlines raise (their messages as the handlers word them). The real sockets behind
 * them are exercised in stalled-endpoint.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { isSosError } from '../src/index.ts';
import { mapTransportError, timeoutKind } from '../src/timeouts.ts';

const named = (name: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { name, ...extra });

describe('which timeout an error is', () => {
  it.each([
    [
      'the Node handler idle timer',
      named(
        'TimeoutError',
        '@smithy/node-http-handler - the request socket timed out after 30000 ms of inactivity (configured by client requestHandler).',
      ),
      'idle',
      '30000 ms',
    ],
    [
      'the Node handler request timer',
      named(
        'TimeoutError',
        '@smithy/node-http-handler - [ERROR] a request has exceeded the configured 600000 ms requestTimeout.',
      ),
      'request',
      '600000 ms',
    ],
    [
      'the fetch handler request timer',
      named('TimeoutError', 'Request did not complete within 5000 ms'),
      'request',
      '5000 ms',
    ],
    [
      "the agent's connect bound",
      named('TimeoutError', 'x', { code: 'ETIMEDOUT', timeout: 'connect', ms: 10_000 }),
      'connect',
      '10000 ms',
    ],
    [
      'an abort by our cleanup deadline (marked by the client)',
      named('AbortError', 'Request aborted', { timeout: 'cleanup', ms: 30_000 }),
      'cleanup',
      '30000 ms',
    ],
    [
      "a socket's own ETIMEDOUT",
      named('Error', 'connect ETIMEDOUT 10.0.0.1:443', { code: 'ETIMEDOUT' }),
      'idle',
      undefined,
    ],
  ] as const)('%s', (_what, err, kind, bound) => {
    expect(timeoutKind(err)).toBe(kind);
    const mapped = mapTransportError(Object.assign(err, { $endpoint: 'https://sos.example' }), 'put b/k');
    expect(isSosError(mapped, 'TIMEOUT')).toBe(true);
    const message = (mapped as Error).message;
    expect(message).toMatch(/^put b\/k: the store at https:\/\/sos\.example /);
    expect(message).toContain(`(${kind} timeout, timeouts.${kind}Ms`);
    if (bound !== undefined) expect(message).toContain(bound);
  });

  it.each([
    ['an unmarked abort (the SDK retry loop)', named('AbortError', 'Request aborted')],
    [
      "a caller's AbortSignal.timeout() (its reason a TimeoutError)",
      named('AbortError', 'Request aborted', { cause: new DOMException('signal timed out', 'TimeoutError') }),
    ],
    ['a reset', named('Error', 'read ECONNRESET', { code: 'ECONNRESET' })],
    ['an answer', named('NoSuchKey', 'The specified key does not exist.')],
  ])('%s: not a timeout', (_what, err) => {
    expect(timeoutKind(err)).toBeUndefined();
    expect(isSosError(mapTransportError(err, 'put b/k'), 'TIMEOUT')).toBe(false);
  });
});
