/**
 * The `resume` option of `putObject` (Node entry): what the caller gives and what it is told.
 * @module
 */
import { SosError } from '../errors.ts';
import { refuseUnknownOptions } from '../known-options.ts';

/** Makes an upload from a file resumable (see the README, "Resumable uploads"). */
export interface ResumeOptions {
  /**
   * Path of the journal file (JSON, mode 0600): created when the multipart upload starts, rewritten
   * atomically after each part, removed when the upload completes (or is abandoned by `restart`).
   * When it exists, the upload it describes is continued.
   */
  journal: string;
  /** Abort the journaled upload (if any), delete the journal, and start over. */
  restart?: boolean;
  /** Called once before uploading, when an interrupted upload is being continued. */
  onResume?: (info: ResumeInfo) => void;
}

/** What a resumed upload starts from. */
export interface ResumeInfo {
  uploadId: string;
  /** Parts already on the server (checked against the journal), not sent again. */
  partsSkipped: number;
  /** Stored bytes of those parts. */
  bytesSkipped: number;
  /** Parts of the whole object. */
  partsTotal: number;
}

/** What {@link ResumeInfo} becomes once the upload is done: `PutObjectResult.resumed`. */
export interface ResumedUpload {
  partsSkipped: number;
  bytesSkipped: number;
  /**
   * Stored bytes of parts that had reached the server before (listed by it or journaled) and were
   * sent again because they could not be trusted (not journaled, or not matching the journal).
   * Parts cut off mid-transfer by the interruption are not counted: no one knows how much of them
   * had gone.
   */
  bytesResent: number;
}

/**
 * Checks the `resume` option.
 * @throws {SosError} `INVALID_ARGUMENT`.
 */
export function checkResumeOptions(resume: unknown): ResumeOptions {
  if (typeof resume !== 'object' || resume === null) {
    throw new SosError('INVALID_ARGUMENT', '"resume" expected { journal, restart?, onResume? }');
  }
  // a misspelt `restart` would otherwise continue the upload it was meant to abandon
  refuseUnknownOptions(resume, ['journal', 'restart', 'onResume'], 'resume');
  const r = resume as Record<string, unknown>;
  if (typeof r.journal !== 'string' || r.journal === '') {
    throw new SosError('INVALID_ARGUMENT', '"resume.journal" expected the path of the journal file');
  }
  if (r.restart !== undefined && typeof r.restart !== 'boolean') {
    throw new SosError('INVALID_ARGUMENT', `"resume.restart" expected a boolean, got ${typeof r.restart}`);
  }
  if (r.onResume !== undefined && typeof r.onResume !== 'function') {
    throw new SosError('INVALID_ARGUMENT', '"resume.onResume" expected a function');
  }
  return resume as ResumeOptions;
}
