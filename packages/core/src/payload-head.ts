/**
 * The start of a sealed stream as its writes arrive, for the streams that open payloads their own
 * way (WebCrypto pipelined, Workers): the header and payload prefix are copied, never a byte more
 * (SPEC §4.1 bounds them), into a buffer that doubles (linear even when fed a byte at a time); once
 * they are complete the payload is opened, once, and the rest of each write is the payload's.
 * @module
 */
import { headBytesWanted, headerCut } from './decrypt.ts';
import { readHeaderLength } from './header.ts';
import { type OpenedPayload, openPayload, openPrefixLength, type PreparedOpen } from './open.ts';

export class PayloadHead {
  readonly #prepared: PreparedOpen;
  #buffer = new Uint8Array(1024);
  #length = 0;
  #opened: OpenedPayload | undefined;

  /** @param prepared - The caller's checked options (keys, identity, limits, backend). */
  constructor(prepared: PreparedOpen) {
    this.#prepared = prepared;
  }

  /** The opened payload, once the header is complete. */
  get opened(): OpenedPayload | undefined {
    return this.#opened;
  }

  /**
   * Takes what the header still needs from `chunk`, opening the payload when it is complete.
   * @returns Where the payload's bytes start in `chunk` (its length when they do not yet).
   * @throws {SealstreamError} the header's and the key's errors, as {@link openPayload}.
   */
  async take(chunk: Uint8Array): Promise<number> {
    let at = 0;
    while (!this.#opened && at < chunk.length) {
      const n = Math.min(chunk.length - at, headBytesWanted(this.#bytes()) - this.#length);
      if (this.#length + n > this.#buffer.length) {
        const grown = new Uint8Array(Math.max(2 * this.#buffer.length, this.#length + n));
        grown.set(this.#bytes());
        this.#buffer = grown;
      }
      this.#buffer.set(chunk.subarray(at, at + n), this.#length);
      this.#length += n;
      at += n;
      const h = readHeaderLength(this.#bytes());
      if (h !== undefined && this.#length >= openPrefixLength(h)) {
        this.#opened = await openPayload(this.#bytes(), this.#prepared);
        this.#buffer = new Uint8Array(0);
      }
    }
    return at;
  }

  /**
   * At the end of the input: the opened payload.
   * @throws {SealstreamError} `TRUNCATED` (or the whole header's own error) when the input ended first.
   */
  finish(): OpenedPayload {
    if (!this.#opened) throw headerCut(this.#bytes());
    return this.#opened;
  }

  #bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }
}
