/**
 * Runs the built `sealstream` command as a user would: a child process, real files and pipes,
 * the local S3 server's settings in the standard AWS environment variables.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';

export const root = resolve(import.meta.dirname, '../../..');
export const bin = join(root, 'packages/cli/dist/bin.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds the CLI (and the packages it needs) unless dist/ is newer than every source file.
 * Test files run in parallel workers, so a lock folder keeps it to one build at a time.
 */
export function buildCli(): void {
  const lock = join(root, 'packages/cli/.build-lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`${lock} held for 3 minutes; remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    const sources = Math.max(...['core', 'sos', 'cli'].map((p) => newest(join(root, 'packages', p, 'src'))));
    let built = 0;
    try {
      built = Math.min(
        ...['core/dist/index.js', 'sos/dist/index.js', 'cli/dist/bin.js'].map(
          (f) => statSync(join(root, 'packages', f)).mtimeMs,
        ),
      );
    } catch {
      built = 0;
    }
    if (built < sources)
      execFileSync('pnpm', ['--filter', '@sealstream/cli...', 'run', 'build'], { cwd: root, stdio: 'pipe' });
  } finally {
    rmdirSync(lock);
  }
}

/** The environment the CLI gets: the local S3 server through the standard variables. */
export function storeEnv(extra: Record<string, string> = {}): Record<string, string> {
  const s3 = inject('s3');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('AWS_') && k !== 'SEALSTREAM_ENCRYPT_KEY') env[k] = v;
  }
  return {
    ...env,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_CA_BUNDLE: s3.caFile,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    // upload journals in a test folder, not the user's ~/.local/state
    SEALSTREAM_STATE_DIR: join(tmpdir(), `sealstream-cli-test-state-${process.pid}`),
    ...extra,
  };
}

/** What a run of the command gave. */
export interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `sealstream ARGS`, feeding `input` on stdin. */
export function run(
  args: string[],
  options: { input?: Uint8Array | string; env?: Record<string, string>; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd,
      env: options.env ?? storeEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.on('error', () => {}); // the command may exit before reading all of it
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh temporary folder. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sealstream-cli-test-'));
}

/**
 * What most local tests start from: a fresh folder holding a raw key file `key` (from `keygen`)
 * and a file `plain` of `size` random bytes. Builds the CLI first.
 */
export async function keyAndPlainFile(size: number): Promise<{ dir: string; key: string; plain: Buffer }> {
  buildCli();
  const dir = tempDir();
  const key = join(dir, 'key');
  const made = await run(['keygen', '-o', key, '-q']);
  if (made.code !== 0) throw new Error(`keygen failed: ${made.stderr}`);
  const plain = randomBytes(size);
  writeFileSync(join(dir, 'plain'), plain);
  return { dir, key, plain };
}

/** Files in a folder, hidden ones included (temporary outputs start with a dot). */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** A word quoted for a POSIX shell. */
export const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** `sealstream ARGS` as a shell command line (the built bin under this Node). */
export const sealstream = (args: string[]): string => [process.execPath, bin, ...args].map(quote).join(' ');

/**
 * Runs `sealstream ARGS` on a pseudo-terminal (util-linux `script`); `answer` replies to prompts as
 * they appear (text, or bytes exactly as given).
 */
export function runOnTty(
  args: string[],
  answer: (output: string, write: (text: string | Uint8Array) => void) => void = () => {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qefc', sealstream(args), '/dev/null'], {
      env: { ...storeEnv(), TERM: 'xterm', COLUMNS: '120' },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString('utf8');
      answer(output, (text) => child.stdin.write(text));
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
  });
}

/**
 * Runs a bash script, with the store's environment: for what only a shell sets up (closed
 * descriptors, `>>` redirections, `ulimit`).
 */
export function bash(script: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: storeEnv() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Waits until `condition` holds, checking every 50 ms; fails after 30 s naming `what`. */
export async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
