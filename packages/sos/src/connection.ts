/**
 * The connections of a Node client: an https agent whose new connections must be established
 * (TCP connect and TLS handshake both) within the connect timeout, and which remembers whether
 * any request could have reached the store (see reach.ts).
 * @module
 */
import { Agent, type AgentOptions } from 'node:https';
import type { ReachMark, ReachWatcher } from './reach.ts';

/**
 * A connect timeout of {@link ConnectTimedAgent}: retryable like the SDK's own timeouts (its
 * `name` and `code`), and telling which timeout it was (`timeout`).
 */
export interface ConnectTimeoutError extends Error {
  name: 'TimeoutError';
  code: 'ETIMEDOUT';
  timeout: 'connect';
  /** The bound, in milliseconds. */
  ms: number;
}

/**
 * An https agent whose new connections must be usable within `connectMs`: the TCP connect and
 * the TLS handshake together. (Not the SDK's `connectionTimeout`: its clock starts with the
 * request, so requests queued for one of `maxSockets` busy sockets would time out without ever
 * trying to connect; and the SDK's idle timer, armed only once the TCP connect is done, let a
 * handshake that never completes hang for 3 s plus twice the idle timeout per attempt: 63 s by
 * default.)
 */
export class ConnectTimedAgent extends Agent implements ReachWatcher {
  readonly #connectMs: number;
  readonly #origin: string;
  #handshakes = 0;
  #open = 0;

  /**
   * @param connectMs - Bound of the TCP connect and TLS handshake of each new connection.
   * @param origin - The endpoint, named in the timeout's message.
   */
  constructor(connectMs: number, origin: string, options: AgentOptions) {
    super(options);
    this.#connectMs = connectMs;
    this.#origin = origin;
  }

  /** A mark to compare with later (see `mayHaveReached`). */
  mark(): ReachMark {
    return { handshakes: this.#handshakes, open: this.#open };
  }

  override createConnection(
    ...args: Parameters<Agent['createConnection']>
  ): ReturnType<Agent['createConnection']> {
    const socket = super.createConnection(...args);
    if (!socket) return socket;
    const ms = this.#connectMs;
    const timer = setTimeout(() => {
      const err: ConnectTimeoutError = Object.assign(
        new Error(
          `the store at ${this.#origin} did not complete the connection (TCP connect and TLS handshake) within ${ms} ms (connect timeout)`,
        ),
        { name: 'TimeoutError', code: 'ETIMEDOUT', timeout: 'connect', ms } as const,
      );
      socket.destroy(err);
    }, ms);
    let established = false;
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      established = true;
      this.#handshakes++;
      this.#open++;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (established) this.#open--;
    });
    return socket;
  }
}
