// The CLI against Go's age: the `sealstream` command (the built bin, packages/cli/dist/bin.js) and
// Debian's `age`, each as a whole process, file to file on the same cached file, in the same rounds.
// Each run is timed by /usr/bin/time, which also gives the child's CPU-seconds (user + system).

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_DIR, type Context, formatBytes } from './context.ts';
import { randomBytes } from './data.ts';
import { type FamilyResult, type Figure, figure, log, type Measured, type Op, runRounds } from './runner.ts';

const execFileAsync = promisify(execFile);
const BIN = join(BENCH_DIR, '..', 'packages', 'cli', 'dist', 'bin.js');
const TIME = '/usr/bin/time';
const FIGURES = 'cli_encrypt, cli_decrypt, cli_age_go_encrypt, cli_age_go_decrypt, cli_*_vs_age_go';

/**
 * The environment of the timed runs: this one without `NODE_EXTRA_CA_CERTS`. Set (as on the
 * machines that run this bench, for a TLS proxy or the local store), it makes every Node process
 * parse that bundle of certificates before any of its code runs: 60-80 ms of CPU per start here
 * (`node -e 0` 0.07 CPU-s with it, 0.01 without; 144 certificates), which `age` does not pay and no
 * command timed here needs (local files only, no network). A user's shell does not have it unless
 * they set it, and then it is the same cost for every Node program they run.
 */
const CHILD_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== 'NODE_EXTRA_CA_CERTS'),
);

/** Runs `command args` under /usr/bin/time: MB/s of `bytes` by wall clock and per CPU-second of the child. */
async function timed(bytes: number, timeFile: string, command: string, args: string[]): Promise<Measured> {
  await execFileAsync(TIME, ['-f', '%e %U %S', '-o', timeFile, command, ...args], {
    env: CHILD_ENV,
    maxBuffer: 1 << 20,
    timeout: 30 * 60_000,
  });
  const [wall, user, system] = readFileSync(timeFile, 'utf8')
    .trim()
    .split('\n')
    .at(-1)!
    .split(' ')
    .map(Number);
  const mb = bytes / 1e6;
  return { mbPerSecond: mb / wall!, mbPerCpuSecond: mb / (user! + system!) };
}

function skip(reason: string): FamilyResult {
  return { figures: [], skips: [{ family: 'file', what: FIGURES, reason }] };
}

/** `sealstream encrypt/decrypt` against `age` on the same file, file to file, paired by round. */
export async function runCliVsAge(ctx: Context): Promise<FamilyResult> {
  if (!existsSync(BIN)) return skip(`the CLI is not built (${BIN} missing: run \`pnpm build\`)`);
  if (!existsSync(TIME)) return skip(`${TIME} is missing (Debian package \`time\`)`);
  try {
    await execFileAsync('age', ['--version']);
  } catch {
    return skip('the `age` command is missing');
  }
  const size = ctx.sizes.file;
  const dir = ctx.tmp;
  const input = join(dir, 'cli-input.bin');
  writeFileSync(input, randomBytes(size));
  const keyFile = join(dir, 'cli.key');
  await execFileAsync(process.execPath, [BIN, 'keygen', '-o', keyFile, '--force']);
  const { stdout: identityText } = await execFileAsync('age-keygen', []);
  const identityFile = join(dir, 'cli-age-identity.txt');
  writeFileSync(identityFile, identityText, { mode: 0o600 });
  const recipient = /public key: (age1\w+)/.exec(identityText)?.[1];
  if (recipient === undefined) return skip('age-keygen printed no public key');
  const file = (name: string) => join(dir, name);
  const timeFile = file('cli-time.txt');
  // the output is removed first (untimed: only the child's own time counts), so no run replaces a file
  const sealstream = (output: string, args: string[]) => {
    rmSync(output, { force: true });
    return timed(size, timeFile, process.execPath, [BIN, args[0]!, '-q', '-o', output, ...args.slice(1)]);
  };
  const age = (output: string, args: string[]) => {
    rmSync(output, { force: true });
    return timed(size, timeFile, 'age', ['-o', output, ...args]);
  };

  // untimed: each round-trips the file (and warms the page cache)
  await sealstream(file('cli.ss'), ['encrypt', '--key-file', keyFile, input]);
  await sealstream(file('cli.out'), ['decrypt', '--key-file', keyFile, file('cli.ss')]);
  await age(file('cli.age'), ['-r', recipient, input]);
  await age(file('cli-age.out'), ['-d', '-i', identityFile, file('cli.age')]);
  for (const out of ['cli.out', 'cli-age.out']) {
    if (Buffer.compare(readFileSync(file(out)), readFileSync(input)) !== 0) {
      throw new Error(`cli: ${out} differs from the input`);
    }
    rmSync(file(out));
  }

  const ops: Op[] = [
    {
      figure: 'cli_encrypt',
      bytes: size,
      run: () => sealstream(file('cli-t.ss'), ['encrypt', '--key-file', keyFile, input]),
    },
    {
      figure: 'cli_age_go_encrypt',
      bytes: size,
      run: () => age(file('cli-t.age'), ['-r', recipient, input]),
    },
    {
      figure: 'cli_decrypt',
      bytes: size,
      run: () => sealstream(file('cli-t.out'), ['decrypt', '--key-file', keyFile, file('cli.ss')]),
    },
    {
      figure: 'cli_age_go_decrypt',
      bytes: size,
      run: () => age(file('cli-t-age.out'), ['-d', '-i', identityFile, file('cli.age')]),
    },
  ];
  const samples = await runRounds(ops, ctx.fileRuns, (round, results) => {
    const line = [...results].map(([name, v]) => `${name} ${v.toFixed(0)}`).join(', ');
    log(`  round ${round + 1}/${ctx.fileRuns}: ${line} MB/s`);
  });
  const figures: Figure[] = [];
  for (const op of ops) {
    const note = `${op.figure.includes('age') ? 'age' : 'sealstream'} as a whole process, ${formatBytes(size)} file to file, without NODE_EXTRA_CA_CERTS`;
    figures.push(
      figure(op.figure, 'file', 'MB/s', samples.get(op.figure)!, { bytes: size, group: 'cli', note }),
    );
    figures.push(
      figure(`${op.figure}_cpu`, 'file', 'MB/cpu-s', samples.get(`${op.figure}_cpu`)!, {
        bytes: size,
        group: 'cli',
        note: `${note}, per CPU-second of the child (user + system, /usr/bin/time)`,
      }),
    );
    // the same CPU time the other way round: what 10^9 bytes cost the machine
    const cpuSeconds = samples.get(`${op.figure}_cpu`)!.map((mbPerCpuSecond) => 1000 / mbPerCpuSecond);
    figures.push(
      figure(`${op.figure}_cpu_seconds_per_gb`, 'file', 'cpu-s/GB', cpuSeconds, {
        bytes: size,
        group: 'cli',
        note: `${note}: CPU-seconds (user + system) of the child per 10^9 bytes of plaintext`,
      }),
    );
  }
  for (const name of [
    'cli-t.ss',
    'cli-t.age',
    'cli-t.out',
    'cli-t-age.out',
    'cli.ss',
    'cli.age',
    'cli-input.bin',
  ]) {
    rmSync(file(name), { force: true });
  }
  return { figures, skips: [] };
}
