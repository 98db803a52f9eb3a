/**
 * The scrypt work a header's passphrase stanzas ask of a reader, against the reader's limits
 * (SPEC §5.2). A writer asks it before writing a header (a rekey that adds a passphrase stanza each
 * time would otherwise, past the budget, write one whose every passphrase readers refuse); readers
 * enforce the same limits with `WORK_FACTOR_TOO_HIGH` (recipients/scrypt.ts).
 * @module
 */
import { inspectHeader } from './header.ts';
import { resolveLimits, type WorkLimits } from './keyring.ts';

/** A header's passphrase work beyond a reader's total budget. */
export interface PassphraseWorkExcess {
  /** How many passphrase stanzas the header holds. */
  stanzas: number;
  /** The scrypt work they ask in all, as a logN (`log2` of the sum of `2^logN`). */
  workFactor: number;
  /** The reader's total budget, as a logN (`maxTotalWorkFactor`, by default `maxWorkFactor + 1`). */
  budget: number;
}

/**
 * What the passphrase stanzas of `header` ask in all, when that is above what a reader with
 * `limits` accepts (so every passphrase of it would be refused); undefined when within.
 * @throws {SealstreamError} header errors; `INVALID_ARGUMENT` for limits out of range.
 */
export function passphraseWorkExcess(
  header: Uint8Array,
  limits: WorkLimits = {},
): PassphraseWorkExcess | undefined {
  const { maxTotalWorkFactor } = resolveLimits(limits);
  const factors = inspectHeader(header).recipients.flatMap((r) =>
    r.type === 'passphrase' ? [r.workFactor] : [],
  );
  const work = factors.reduce((sum, logN) => sum + 2 ** logN, 0);
  if (work <= 2 ** maxTotalWorkFactor) return undefined;
  return { stanzas: factors.length, workFactor: Math.log2(work), budget: maxTotalWorkFactor };
}
