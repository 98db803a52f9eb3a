// The ceiling: how fast OpenSSL's own AES-256-GCM runs on this CPU, 16 KiB at a time (our chunk size),
// with nothing around it: no streams, no allocation, no JavaScript. One process, then one per core.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Context } from './context.ts';
import { type FamilyResult, figure, log, type Measured } from './runner.ts';

const execFileAsync = promisify(execFile);

/**
 * Parses `openssl speed` output: the result line names the cipher and gives one number per block size,
 * in 1000s of bytes per second, with a `k` suffix. With `-multi` the summed line comes last.
 */
export function parseOpensslSpeed(output: string): number {
  const lines = output.split('\n').filter((l) => /^AES-256-GCM\s+[\d.]+k\s*$/i.test(l.trim()));
  const last = lines.at(-1);
  if (last === undefined) {
    throw new Error(`openssl speed: expected a line "AES-256-GCM <n>k", got:\n${output.slice(-500)}`);
  }
  const thousands = Number.parseFloat(last.trim().split(/\s+/)[1]!);
  return (thousands * 1000) / 1e6;
}

/**
 * One `openssl speed` process, timed both ways for pairing with sealstream in the same round: with
 * `-elapsed` its own figure is wall-clock MB/s, and the shell's `times` gives the CPU-seconds it used
 * (user + system), from which MB per CPU-second follows (what `openssl speed` reports without
 * `-elapsed`).
 */
export async function opensslPaired(seconds: number): Promise<Measured> {
  const script = `openssl speed -elapsed -evp aes-256-gcm -bytes 16384 -seconds ${seconds} 2>&1; times`;
  const { stdout } = await execFileAsync('sh', ['-c', script], { maxBuffer: 1 << 20 });
  const mbPerSecond = parseOpensslSpeed(stdout);
  const ops = /:\s*(\d+) AES-256-GCM'?s? in ([\d.]+)s/i.exec(stdout);
  const children = [...stdout.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].at(-1);
  if (!ops || !children)
    throw new Error(`openssl speed: could not read its operations and CPU time:\n${stdout.slice(-500)}`);
  const bytes = Number(ops[1]) * 16384;
  const cpu = 60 * Number(children[1]) + Number(children[2]) + 60 * Number(children[3]) + Number(children[4]);
  return { mbPerSecond, mbPerCpuSecond: bytes / 1e6 / cpu };
}

async function speed(seconds: number, processes: number): Promise<number> {
  const args = ['speed', '-evp', 'aes-256-gcm', '-bytes', '16384', '-seconds', String(seconds)];
  if (processes > 1) args.push('-multi', String(processes));
  const { stdout, stderr } = await execFileAsync('openssl', args, { maxBuffer: 1 << 20 });
  return parseOpensslSpeed(`${stdout}\n${stderr}`);
}

export async function runOpenssl(ctx: Context): Promise<FamilyResult> {
  try {
    await execFileAsync('openssl', ['version']);
  } catch {
    return {
      figures: [],
      skips: [{ family: 'openssl', what: 'openssl_aes256gcm_16k*', reason: 'no `openssl` command on PATH' }],
    };
  }
  const one: number[] = [];
  const multi: number[] = [];
  const processes = 2;
  for (let run = 0; run < ctx.runs; run++) {
    one.push(await speed(ctx.sizes.opensslSeconds, 1));
    multi.push(await speed(ctx.sizes.opensslSeconds, processes));
    log(
      `  openssl run ${run + 1}/${ctx.runs}: ${one.at(-1)!.toFixed(0)} MB/s, ${multi.at(-1)!.toFixed(0)} MB/s x2`,
    );
  }
  const note = `openssl speed -evp aes-256-gcm -bytes 16384 -seconds ${ctx.sizes.opensslSeconds}`;
  return {
    figures: [
      figure('openssl_aes256gcm_16k', 'openssl', 'MB/s', one, { note }),
      figure('openssl_aes256gcm_16k_2p', 'openssl', 'MB/s', multi, { note: `${note} -multi ${processes}` }),
    ],
    skips: [],
  };
}
