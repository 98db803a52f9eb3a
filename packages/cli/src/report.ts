/**
 * What the CLI tells the user: messages on stderr, results as text or `--json`, and a progress
 * bar (cli-progress) only when stderr is a terminal and neither `--quiet` nor `--json` is set.
 * Nothing here is ever given key material.
 * @module
 */
import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';
import { printable, printableLine, safeJson } from './printable.ts';
import { queueResult } from './stdout.ts';

/** Output settings common to every command. */
export interface OutputFlags {
  quiet?: boolean;
  json?: boolean;
}

/** Progress of one transfer or of a batch. */
export interface Progress {
  /** Adds bytes done. */
  add(bytes: number): void;
  /** Sets the total when it becomes known. */
  setTotal(total: number): void;
  /** Sets the number of files done (batches). */
  files(done: number, total: number): void;
  /** Removes the bar. */
  stop(): void;
}

/** A progress that shows nothing. */
export const NO_PROGRESS: Progress = { add() {}, setTotal() {}, files() {}, stop() {} };

/** Human size: `1.5 MiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  // rates are fractions: bytes are shown whole
  return i === 0 ? `${Math.round(n)} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Terminal reporting for one command run. */
export class Reporter {
  readonly quiet: boolean;
  readonly json: boolean;
  /** True when stdout carries data (so `--json` results go to stderr). */
  dataOnStdout = false;
  /** True once the command printed its result or answer. */
  resulted = false;
  readonly #stderr: NodeJS.WriteStream;
  #bar: SingleBar | undefined;

  constructor(flags: OutputFlags, stderr: NodeJS.WriteStream = process.stderr) {
    this.quiet = flags.quiet === true;
    this.json = flags.json === true;
    this.#stderr = stderr;
  }

  /** A status line on stderr, unless quiet or json. */
  info(message: string): void {
    if (this.quiet || this.json) return;
    this.#line(message);
  }

  /** A warning on stderr, always (a warning is about safety, so `--quiet` does not hide it). */
  warn(message: string): void {
    this.#line(`sealstream: warning: ${message}`);
  }

  /** The error line, always. */
  error(message: string, hint?: string): void {
    this.#line(`sealstream: error: ${message}`);
    if (hint) this.#line(`sealstream: hint: ${hint}`);
  }

  /**
   * A failed run: with `--json`, `value` as one JSON line (on stdout, or on stderr when stdout
   * carries data), and the message on stderr too when the JSON went to stdout; else the message.
   */
  failure(value: Record<string, unknown>, message: string, hint?: string): void {
    if (this.json) {
      this.result(value, undefined);
      if (this.dataOnStdout) return;
    }
    this.error(message, hint);
  }

  /** The result: JSON (stdout, or stderr when stdout carries data) with `--json`, else `text` on stderr unless quiet. */
  result(value: Record<string, unknown>, text: string | undefined): void {
    this.resulted = true;
    if (this.json) {
      const line = `${safeJson(value)}\n`;
      if (this.dataOnStdout) this.#stderr.write(line);
      else queueResult(line);
    } else if (text !== undefined) {
      this.info(text);
    }
  }

  /** A result that is the command's answer (`inspect`): JSON with `--json`, else `text` on stdout. */
  answer(value: Record<string, unknown>, text: string): void {
    this.resulted = true;
    queueResult(this.json ? `${safeJson(value)}\n` : `${printable(text)}\n`);
  }

  /** A progress bar for `label`; a no-op unless stderr is a terminal and output is not quiet/json. */
  progress(label: string, total: number | undefined): Progress {
    if (this.quiet || this.json || !this.#stderr.isTTY || process.env.SEALSTREAM_NO_PROGRESS === '1')
      return NO_PROGRESS;
    let done = 0;
    let knownTotal = total;
    let filesText = '';
    const started = performance.now();
    // the line is composed here, so a total learnt after the start (a download's size) adds the bar
    const payload = () => {
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0.2 ? done / seconds : 0;
      const rateText = rate > 0 ? `${formatBytes(rate)}/s` : '-';
      if (knownTotal === undefined)
        return { line: `${label}${filesText} ${formatBytes(done)} | ${rateText}` };
      const fraction = knownTotal > 0 ? Math.min(1, done / knownTotal) : 1;
      const filled = Math.round(fraction * 24);
      const left = rate > 0 ? (knownTotal - Math.min(done, knownTotal)) / rate : undefined;
      return {
        line:
          `${label}${filesText} [${'#'.repeat(filled)}${'-'.repeat(24 - filled)}] ${Math.floor(fraction * 100)}% | ` +
          `${formatBytes(done)} / ${formatBytes(knownTotal)} | ${rateText} | ETA ${left === undefined ? '--' : formatSeconds(left)}`,
      };
    };
    // loaded only when a bar is drawn (a terminal): a run without one does not pay for the module
    const { SingleBar: Bar } = createRequire(import.meta.url)(
      'cli-progress',
    ) as typeof import('cli-progress');
    const bar = new Bar({
      stream: this.#stderr,
      format: '{line}',
      hideCursor: true,
      clearOnComplete: true,
      fps: 8,
    });
    this.#bar = bar;
    bar.start(Math.max(knownTotal ?? 1, 1), 0, payload());
    return {
      add: (bytes) => {
        done += bytes;
        bar.update(Math.min(done, knownTotal ?? done), payload());
      },
      setTotal: (t) => {
        knownTotal = t;
        bar.setTotal(Math.max(t, 1));
        bar.update(Math.min(done, t), payload());
      },
      files: (d, t) => {
        filesText = ` (${d}/${t} files)`;
        bar.update(Math.min(done, knownTotal ?? done), payload());
      },
      stop: () => {
        if (this.#bar === bar) this.#bar = undefined;
        bar.stop();
      },
    };
  }

  /** One line on stderr. Messages quote object keys and server text: escaped, on one line. */
  #line(message: string): void {
    const safe = printableLine(message);
    if (this.#bar) {
      // keep the bar on its own line
      this.#stderr.write(`\r\x1b[K${safe}\n`);
    } else {
      this.#stderr.write(`${safe}\n`);
    }
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--';
  const t = Math.max(0, Math.round(s));
  const m = Math.floor(t / 60);
  return m > 0 ? `${m}m${String(t % 60).padStart(2, '0')}s` : `${t}s`;
}
