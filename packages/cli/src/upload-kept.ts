/**
 * The error of an upload kept on the store for resuming. Apart from resume.ts (which needs the
 * transport) so that io.ts can recognize it without loading the AWS SDK into local commands.
 * @module
 */
import type { UploadResumableError } from '@sealstream/sos';
import { CliError, describeError, EXIT, exitCodeOf } from './exit.ts';

/**
 * A resumable upload that stopped (interrupted, or a network failure past the retries) with its
 * parts kept on the store. An interrupted run reports {@link UploadKeptError.left} after the
 * signal's own message (io.ts `interruption`).
 */
export class UploadKeptError extends CliError {
  /** What the run leaves and how to go on, for the message of an interrupted run. */
  readonly left: string;
  /** The command that discards the kept upload. */
  readonly abort: string;
  /** Which upload: `SOURCE -> DESTINATION (upload ID)`. */
  readonly which: string;

  constructor(err: UploadResumableError, source: string, to: string, abort: string) {
    const why = interruptedBySignal(err.cause) ? 'was interrupted' : `stopped: ${describeError(err.cause)}`;
    // a file that changed while it was read cannot be resumed: the next run refuses it too
    const changed = (err.cause as { code?: string } | undefined)?.code === 'SOURCE_CHANGED';
    const hint = changed
      ? `the parts stored hold the old content, so it cannot be resumed: once the file is complete, run the same command with --restart to upload it as it is then (the old upload is aborted); or discard the upload: ${abort}`
      : `run the same command again to resume where it stopped; or discard the upload: ${abort}`;
    super(
      exitCodeOf(err) === EXIT.OK ? EXIT.ERROR : exitCodeOf(err),
      `upload of ${source} -> ${to} ${why}; no object was created, and the parts already sent are kept on the store (upload ${err.uploadId})`,
      { cause: err, hint },
    );
    this.name = 'UploadKeptError';
    this.left = `the upload of ${source} -> ${to} is kept on the store (upload ${err.uploadId}), no object was created`;
    this.abort = abort;
    this.which = `${source} -> ${to} (upload ${err.uploadId})`;
  }
}

/** What uploads kept by an interrupted run leave: one sentence for one, a list for several. */
export function keptUploadsLeft(kept: readonly UploadKeptError[]): string | undefined {
  if (kept.length <= 1) return kept[0]?.left;
  return `${kept.length} uploads are kept on the store, no object was created for them: ${kept.map((k) => k.which).join(', ')}`;
}

/**
 * The hint for uploads kept by an interrupted run: resume them all by running the command again,
 * or discard each one (every upload named, so none is left billed by an incomplete list).
 */
export function keptUploadsHint(kept: readonly UploadKeptError[]): string | undefined {
  if (kept.length <= 1) return kept[0]?.hint;
  return `run the same command again to resume them where they stopped; or discard them: ${kept.map((k) => k.abort).join('; ')}`;
}

/** True when the failure is the run's own interruption (SIGINT, SIGTERM). */
function interruptedBySignal(err: unknown): boolean {
  // a transport ABORTED maps to EXIT.INTERRUPTED too
  const code = exitCodeOf(err);
  return code === EXIT.INTERRUPTED || code === EXIT.TERMINATED;
}
