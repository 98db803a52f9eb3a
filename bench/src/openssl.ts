// The ceiling: how fast OpenSSL's own AES-256-GCM runs on this CPU, 16 KiB at a time (our chunk size),
// with nothing around it: no streams, no allocation, no JavaScript. One process, then one per core.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Context } from './context.ts';
import { type FamilyResult, figure, log } from './runner.ts';

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
