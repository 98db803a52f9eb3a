/**
 * The error that ends a run over many objects (`cp -r`, `rekey -r`) after some of them failed and
 * the others were done and reported in its summary. Its exit code does not depend on which failure
 * happened to come first (transfers run in parallel): the code the failures share, or 1 when they
 * differ; each failure keeps its own code in the summary (`--json`: `failed[].exitCode`).
 * @module
 */
import { CliError, EXIT, type ExitCode, exitCodeOf } from './exit.ts';
import { errorCodeOf } from './failure.ts';

/**
 * @param failures - The error of each object that failed (at least one).
 * @param message - What failed, e.g. `2 of 40 copies failed`.
 */
export function batchFailure(failures: readonly unknown[], message: string, hint?: string): CliError {
  const codes = new Set<ExitCode>(failures.map((f) => exitCodeOf(f)));
  const shared = codes.size === 1 ? [...codes][0]! : EXIT.ERROR;
  // the stable code of --json's error line comes from the cause: only one that every failure has
  const sameKind = new Set(failures.map((f) => errorCodeOf(f))).size === 1;
  return new CliError(shared === EXIT.OK ? EXIT.ERROR : shared, message, {
    ...(sameKind ? { cause: failures[0] } : {}),
    ...(hint !== undefined ? { hint } : {}),
  });
}
