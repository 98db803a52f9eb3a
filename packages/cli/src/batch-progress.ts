/**
 * How far a run over many objects (`cp -r`, `rekey -r`) got, for the last line of a run that was
 * interrupted: which part is done and stays done, and what running the same command again does.
 * Without it, an interrupted `cp -r` said only that partial files were removed, and the user could
 * not tell whether 3 or 300 files had been copied.
 * @module
 */

let note: (() => string | undefined) | undefined;

/** Sets what the run says of its progress if it is interrupted (read when the message is made). */
export function batchProgress(describe: () => string | undefined): void {
  note = describe;
}

/** The sentence of the run's progress, if it set one. */
export function batchProgressNote(): string | undefined {
  return note?.();
}
