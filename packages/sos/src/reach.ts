/**
 * Whether a request could have reached the store: a CreateMultipartUpload that failed on a store
 * never reached (every attempt timed out connecting) created nothing, so there is no lost upload
 * to look for, and looking would only wait on the dead endpoint again. Runtime-neutral: the Node
 * client's agent watches its connections; other clients are never assumed unreached.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';

/** Where a client's connections stood at one moment. */
export interface ReachMark {
  /** TLS handshakes completed so far. */
  readonly handshakes: number;
  /** Connections that had completed their handshake and were still open. */
  readonly open: number;
}

/** What watches a client's connections (the Node client's agent). */
export interface ReachWatcher {
  mark(): ReachMark;
}

const watchers = new WeakMap<S3Client, ReachWatcher>();

/** Remembers what watches the connections of a client made by `createSosClient`. */
export function registerReachWatcher(client: S3Client, watcher: ReachWatcher): void {
  watchers.set(client, watcher);
}

/** A mark of the client's connections now, or `undefined` when nothing watches them. */
export function reachMark(client: S3Client): ReachMark | undefined {
  return watchers.get(client)?.mark();
}

/**
 * Whether a request sent since `since` may have reached the store. False only when no connection
 * completed its handshake since then and none that had was open then: no request bytes were
 * written to any socket (they are written only after the handshake). True whenever it cannot be
 * told (`since` undefined: the connections are not watched).
 */
export function mayHaveReached(client: S3Client, since: ReachMark | undefined): boolean {
  const now = reachMark(client);
  if (since === undefined || now === undefined) return true;
  return since.open > 0 || now.handshakes > since.handshakes;
}
