/**
 * The scrypt work a header's passphrase stanzas ask of a reader, all together (SPEC §5.2): `rekey
 * --add --to-passphrase` adds a stanza each time, and past the readers' budget every passphrase of
 * the file or object would be refused. Local and remote `rekey` refuse such a header alike, before
 * anything is written: a usage error (exit 2) with the same way out.
 * @module
 */
import { DEFAULT_MAX_WORK_FACTOR, passphraseWorkExcess } from '@sealstream/core';
import { isSosError } from '@sealstream/sos';
import { CliError, EXIT, usage } from './exit.ts';
import type { GatheredKeys } from './keys.ts';

/** The way out of a rekey refused for the scrypt work its passphrases would ask, local or remote. */
export const PASSPHRASE_BUDGET_HINT =
  'rekey without --add to replace the passphrases with the new one, or give the new keys as key files';

/**
 * Refuses a new header whose passphrase stanzas ask for more scrypt work in all than readers accept
 * (SPEC §5.2: at most `2^(maxWorkFactor + 1)`, the budget of `decrypt`, `cat` and `rekey` with the
 * same `--max-work-factor`): each `rekey --add --to-passphrase` adds one, and past the budget every
 * passphrase of the file would be refused with WORK_FACTOR_TOO_HIGH. As `encrypt` refuses a work
 * factor above the limit, the CLI writes nothing that it would not open.
 * @throws {CliError} usage error.
 */
export function refuseUnreadablePassphrases(header: Uint8Array, maxWorkFactor: number | undefined): void {
  const limit = maxWorkFactor ?? DEFAULT_MAX_WORK_FACTOR;
  const excess = passphraseWorkExcess(header, { maxWorkFactor: limit });
  if (!excess) return;
  throw usage(
    `the file would hold ${excess.stanzas} passphrase stanzas asking for scrypt work 2^${excess.workFactor.toFixed(2)} in all, above 2^${excess.budget}, what readers accept with --max-work-factor ${limit}: every passphrase of it would be refused`,
    PASSPHRASE_BUDGET_HINT,
  );
}

/**
 * The transport's refusal of a header whose passphrases would ask for more scrypt work than readers
 * do (`rekey --add --to-passphrase`, once too often), said as local `rekey` says it: a usage error
 * (exit 2) with the same way out. Nothing was written.
 */
export function passphraseBudgetRefusal(err: unknown, fresh: GatheredKeys): CliError | undefined {
  if (fresh.passphrases === 0 || !isSosError(err, 'INVALID_ARGUMENT')) return undefined;
  if (!err.message.includes('passphrase stanzas asking for scrypt work')) return undefined;
  return new CliError(EXIT.USAGE, err.message.replace('with maxWorkFactor', 'with --max-work-factor'), {
    hint: PASSPHRASE_BUDGET_HINT,
  });
}
