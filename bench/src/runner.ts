// The measuring core of the bench: figures, repeated runs, interleaved rounds and ratios.
//
// Every figure is a median over repeated runs, with the min and max beside it. Figures that are compared
// with each other are measured in the same rounds (A, B, C, A, B, C, ...), so a slow patch of a shared
// machine hits both sides of a ratio; such figures carry the same `group` and their ratio is taken round
// by round.

import { performance } from 'node:perf_hooks';

/** The families of figures, one module each; `--only` takes these names. */
export const FAMILIES = ['openssl', 'core', 'file', 'memory', 'peers', 's3', 'browser'] as const;
export type FamilyName = (typeof FAMILIES)[number];

/**
 * MB/s is 10^6 bytes per second, the unit `openssl speed` reports in (as 1000s of bytes). MB/cpu-s is
 * 10^6 bytes per CPU-second (user + system, every thread of the process): steadier than wall time on a
 * shared machine, and what `openssl speed` measures by default (user CPU time).
 */
export type Unit = 'MB/s' | 'MB/cpu-s' | 'cpu-s/GB' | 'MiB' | 'x' | 'bytes' | 'requests';

export interface Figure {
  name: string;
  family: FamilyName;
  unit: Unit;
  median: number;
  min: number;
  max: number;
  /** One value per run, in run order. */
  samples: number[];
  /** Bytes processed by one run, when the figure is a throughput or a memory high-water mark. */
  bytes?: number;
  /** Figures measured in the same interleaved rounds share a group; their ratios are paired by round. */
  group?: string;
  note?: string;
}

/** A figure (or a whole family) that was not measured, and why. */
export interface Skip {
  family: FamilyName;
  what: string;
  reason: string;
  /** Set when something broke (a failed round-trip check, an exception), not merely absent here. */
  failed?: boolean;
}

export interface FamilyResult {
  figures: Figure[];
  skips: Skip[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median: expected at least one value, got none');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function figure(
  name: string,
  family: FamilyName,
  unit: Unit,
  samples: number[],
  extra: Pick<Figure, 'bytes' | 'group' | 'note'> = {},
): Figure {
  return {
    name,
    family,
    unit,
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    samples,
    ...extra,
  };
}

/** Throughput in MB/s (10^6 bytes per second) of `bytes` processed in `ms` milliseconds. */
export function mbPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1e3);
}

/** Runs `fn` once and returns the wall-clock milliseconds it took. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** What an op that measures itself (another process) reports. */
export interface Measured {
  mbPerSecond: number;
  mbPerCpuSecond: number;
}

/**
 * One timed operation in a round: `run` processes `bytes` bytes and resolves when done. An op that
 * runs in this process is timed here, wall clock and CPU; one that runs elsewhere returns its own
 * {@link Measured} figures.
 */
export interface Op {
  figure: string;
  bytes: number;
  /** Resolves with {@link Measured} figures when the work ran elsewhere; anything else is ignored. */
  run: () => Promise<unknown>;
}

function isMeasured(value: unknown): value is Measured {
  return typeof value === 'object' && value !== null && 'mbPerCpuSecond' in value && 'mbPerSecond' in value;
}

/** The key under which {@link runRounds} keeps an op's MB/cpu-s samples. */
export const cpuKey = (figure: string) => `${figure}_cpu`;

/**
 * Runs every op once per round, for `rounds` rounds, and returns each op's samples in MB/s, and under
 * {@link cpuKey} its samples in MB/cpu-s (this process's CPU time, all threads, during the op).
 *
 * The order rotates by one each round so that no op always runs first (cold) or right after the
 * heaviest one. `onRound` reports progress.
 */
export async function runRounds(
  ops: readonly Op[],
  rounds: number,
  onRound?: (round: number, results: ReadonlyMap<string, number>) => void,
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(
    ops.flatMap((op) => [
      [op.figure, []],
      [cpuKey(op.figure), []],
    ]),
  );
  for (let round = 0; round < rounds; round++) {
    const thisRound = new Map<string, number>();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[(i + round) % ops.length]!;
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      const result = await op.run();
      const measured = isMeasured(result) ? result : undefined;
      const ms = performance.now() - start;
      const cpu = process.cpuUsage(cpu0);
      const mbs = measured ? measured.mbPerSecond : mbPerSecond(op.bytes, ms);
      const cpuMbs = measured
        ? measured.mbPerCpuSecond
        : mbPerSecond(op.bytes, (cpu.user + cpu.system) / 1e3);
      samples.get(op.figure)!.push(mbs);
      samples.get(cpuKey(op.figure))!.push(cpuMbs);
      thisRound.set(op.figure, mbs);
    }
    onRound?.(round, thisRound);
  }
  return samples;
}

/**
 * The ratio `numerator / denominator` as a figure. Paired round by round when both were measured in
 * the same rounds; otherwise the median of medians, with the widest range the two ranges allow.
 */
export function ratio(name: string, family: FamilyName, numerator: Figure, denominator: Figure): Figure {
  const paired =
    numerator.group !== undefined &&
    numerator.group === denominator.group &&
    numerator.samples.length === denominator.samples.length;
  if (paired) {
    const samples = numerator.samples.map((n, i) => n / denominator.samples[i]!);
    return figure(name, family, 'x', samples, {
      group: numerator.group,
      note: `${numerator.name} / ${denominator.name}, paired by round`,
    });
  }
  const med = numerator.median / denominator.median;
  return {
    name,
    family,
    unit: 'x',
    median: med,
    min: numerator.min / denominator.max,
    max: numerator.max / denominator.min,
    samples: numerator.samples.map((n) => n / denominator.median),
    note: `${numerator.name} / ${denominator.name}, medians; range from the extremes`,
  };
}

/** A line on stderr, so that stdout stays free for whatever a caller pipes. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function fmt(value: number, unit: Unit): string {
  switch (unit) {
    case 'x':
      return value.toFixed(2);
    case 'MiB':
      return value.toFixed(1);
    case 'cpu-s/GB':
      return value.toFixed(2);
    case 'bytes':
      return String(Math.round(value));
    default:
      return value >= 100 ? value.toFixed(0) : value.toFixed(1);
  }
}
