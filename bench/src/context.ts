// What every family gets: the sizes and run counts of this run, and a scratch folder.

import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FamilyName } from './runner.ts';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export interface Sizes {
  /** Plaintext per run of the in-memory core figures (the issue asks for at least 256 MiB). */
  core: number;
  /** The file that the file pipeline and the peers read (1 GiB). */
  file: number;
  /** The generated stream of the peak-RSS figure (4 GiB). */
  memoryStream: number;
  /** The object of the S3 figures (1 GiB). */
  s3Object: number;
  /** The client-side upload whose peak RSS is measured (`peak_rss_mib_upload_2gib`). */
  uploadRss: number;
  /** `openssl speed -seconds` per run. */
  opensslSeconds: number;
}

export const FULL_SIZES: Sizes = {
  core: 256 * MiB,
  file: GiB,
  memoryStream: 4 * GiB,
  s3Object: GiB,
  uploadRss: 2 * GiB,
  opensslSeconds: 3,
};

/** Small enough that the whole `--quick` run stays under a minute on two cores. */
export const QUICK_SIZES: Sizes = {
  core: 16 * MiB,
  file: 32 * MiB,
  memoryStream: 256 * MiB,
  s3Object: 32 * MiB,
  uploadRss: 64 * MiB,
  opensslSeconds: 1,
};

export interface Context {
  quick: boolean;
  sizes: Sizes;
  /** Runs per figure of the OpenSSL and in-memory core families (rounds, for interleaved figures). */
  runs: number;
  /** Rounds of the 1 GiB file pipelines and peers, and of the S3 transfers: the slow ones. */
  fileRuns: number;
  /** Child processes per peak-RSS figure. */
  memoryRuns: number;
  /** Scratch folder, removed at the end of the run. */
  tmp: string;
  only: ReadonlySet<FamilyName>;
}

export function makeTmp(): string {
  const tmp = join(RESULTS_DIR, 'tmp');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  return tmp;
}

export function removeTmp(tmp: string): void {
  rmSync(tmp, { recursive: true, force: true });
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}
