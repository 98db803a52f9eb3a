/**
 * What a run's data output already delivered where it cannot be taken back: stdout (a pipe, a
 * terminal, the file of a shell's `>`) or an existing FIFO or device given with `-o`. A failed or
 * interrupted run removes a temporary output file, so nothing is left of it; bytes that went to
 * those destinations stay where they went, and the run's last message says so (how many, and that
 * they are not the whole output), so that whoever reads them does not take them for all of it.
 * @module
 */

/** What the output holds, in words: set by the command that writes it. */
let contents = 'output';

/** One destination that was handed output. */
interface Delivery {
  /** `stdout`, or the path given with `-o`. */
  where: string;
  /** `a pipe`, `a FIFO`, `a device`, `a terminal`, `a file`, when known. */
  kind: string | undefined;
  /** Bytes the system took so far (a lower bound: a write in progress may have gone in part). */
  bytes: () => number;
}

const deliveries: Delivery[] = [];

/**
 * Names what the run's output holds, for the message of a failure after some of it went out:
 * `authenticated plaintext` (decrypt, cat with a key), `encrypted data` (encrypt).
 */
export function outputHolds(what: string): void {
  contents = what;
}

/**
 * Records that output started going to a destination that cannot take it back (once per
 * destination: later calls for the same `where` are ignored).
 * @param bytes - How many bytes it took so far, read when the message is made.
 */
export function deliveringTo(where: string, kind: string | undefined, bytes: () => number): void {
  if (deliveries.some((d) => d.where === where)) return;
  deliveries.push({ where, kind, bytes });
}

/**
 * The sentence for a run that stops after output went to such a destination, or `undefined` when
 * none was handed any.
 * @example "authenticated plaintext had already gone out to stdout (a pipe), at least 262144 bytes:
 *   what was written there is incomplete and must not be taken for the whole output"
 */
export function deliveredNote(): string | undefined {
  if (deliveries.length === 0) return undefined;
  const sent = deliveries.map((d) => {
    const n = d.bytes();
    const where = `${d.where}${d.kind !== undefined ? ` (${d.kind})` : ''}`;
    return n > 0 ? `${where}, at least ${n} bytes` : `${where}, maybe in part`;
  });
  return `${contents} had already gone out to ${sent.join('; ')}: what was written there is incomplete and must not be taken for the whole output`;
}

/** The kind of an open descriptor's file, in words, from its `fstat`. */
export function kindOf(
  info: {
    isFIFO(): boolean;
    isSocket(): boolean;
    isCharacterDevice(): boolean;
    isBlockDevice(): boolean;
    isFile(): boolean;
  },
  tty = false,
): string | undefined {
  if (tty) return 'a terminal';
  if (info.isFIFO()) return 'a pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isFile()) return 'a file';
  return undefined;
}
