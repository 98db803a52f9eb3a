/**
 * A caller's abort racing the one PutObject of a small upload. The store stores the object once
 * the last byte of the body has reached it, whatever becomes of its answer: cancelling the request
 * after that point rejects the call while the object stays. So the abort cancels the PutObject only
 * while its body has not all left; past that point it waits for the answer (within the cleanup
 * bound): the call then resolves with the object stored, or says that it may have been stored.
 *
 * Knowing the point takes a client that reports it: the Node entry's `createSosClient` sends
 * bodies through a stream that notes when its last byte was handed to the request (sliced-body.ts),
 * and its agent tells whether any connection reached the store (reach.ts: bytes handed over while
 * the connection is still being made wait in the request). With any other client (the browser
 * entry's `fetch`), the abort cancels at once and its error says that the object may have been
 * stored.
 * @module
 */
import type { PutObjectCommand, PutObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { SosError } from './errors.ts';
import { mayHaveReached, reachMark } from './reach.ts';
import { httpStatus } from './sse-c.ts';
import { timeoutsOf } from './timeouts.ts';

/** Clients whose requests report when their body was handed over (see {@link noteBodySent}). */
const reportingClients = new WeakSet<object>();
/** Bodies being watched, and whether an attempt has handed over their last byte. */
const watched = new WeakMap<Uint8Array, { sent: boolean }>();

/** Marks `client` as one whose transport calls {@link noteBodySent} for watched bodies. */
export function reportsBodiesSent(client: object): void {
  reportingClients.add(client);
}

/** True when the transport should report the sending of `body` (see {@link noteBodySent}). */
export function isBodyWatched(body: Uint8Array): boolean {
  return watched.has(body);
}

/**
 * Called by the transport when an attempt has handed the last byte of `body` to the connection:
 * from then on the store may have it all. (Handed over, not acknowledged: early, never late.)
 */
export function noteBodySent(body: Uint8Array): void {
  const watch = watched.get(body);
  if (watch !== undefined) watch.sent = true;
}

/**
 * Sends the one PutObject of an upload whose body is `body`, honouring `signal` up to the point
 * where the store may have stored the object, and not beyond (see the module comment).
 * @returns The store's answer: also after an abort that came once the body had left.
 * @throws {SosError} `ABORTED`, saying that nothing was stored when the body had not all left (or
 *   the store answered with an error), and that the object may have been stored otherwise; the
 *   request's own error when `signal` did not fire.
 */
export async function sendPutObject(
  client: S3Client,
  command: PutObjectCommand,
  body: Uint8Array,
  signal: AbortSignal | undefined,
  nothingStored: (signal: AbortSignal, cause?: unknown) => SosError,
): Promise<PutObjectCommandOutput> {
  if (signal === undefined) return client.send(command);
  if (signal.aborted) throw nothingStored(signal);
  const reporting = reportingClients.has(client);
  const watch = { sent: false };
  if (reporting) watched.set(body, watch);
  // bytes handed over before any connection reached the store wait in the request's buffer
  const reach = reachMark(client);
  const request = new AbortController();
  let mayHaveArrived = false;
  let bound: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    if (reporting && !(watch.sent && mayHaveReached(client, reach))) {
      request.abort(signal.reason);
      return;
    }
    mayHaveArrived = true;
    if (!reporting) {
      request.abort(signal.reason);
      return;
    }
    // past the point of no return: the answer says whether the object was stored
    const { cleanupMs } = timeoutsOf(client);
    bound = setTimeout(() => request.abort(signal.reason), cleanupMs);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await client.send(command, { abortSignal: request.signal });
  } catch (err) {
    if (!signal.aborted) throw err;
    // an answer with an error status: the store stored nothing
    if (!mayHaveArrived || httpStatus(err) !== undefined) throw nothingStored(signal, err);
    const { Bucket, Key } = command.input;
    const when = reporting
      ? 'after the whole body of its PutObject had left, and the answer did not come in time'
      : 'while its PutObject was in flight';
    throw new SosError(
      'ABORTED',
      `upload aborted ${when}: ${Bucket}/${Key} may have been stored all the same (check it, and delete it if unwanted)`,
      { cause: signal.reason ?? err },
    );
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (bound !== undefined) clearTimeout(bound);
    watched.delete(body);
  }
}
