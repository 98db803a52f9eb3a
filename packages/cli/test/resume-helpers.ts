/** What the resume tests share: journals of a state folder, runs of the CLI, reading objects back, key spellings. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, storeEnv } from './helpers.ts';

/** The journal files of a state folder, parsed (atomically replaced, so never half written). */
export function journals(state: string): { text: string; parts: number; planned: number }[] {
  const folder = join(state, 'uploads');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        const text = readFileSync(join(folder, f), 'utf8');
        const j = JSON.parse(text) as { parts: unknown[]; plan: { parts: number } };
        return [{ text, parts: j.parts.length, planned: j.plan.parts }];
      } catch {
        return []; // removed between the listing and the read
      }
    });
}

/** Runs the CLI against `endpoint` (the proxy) with its state in `state`, collecting every journal version written meanwhile. */
export function startCp(
  args: string[],
  state: string,
  seen: Set<string>,
  endpoint: string,
  extraEnv: Record<string, string> = {},
): {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
  stopWatching: () => void;
} {
  const child = spawn(process.execPath, [bin, ...args], {
    env: storeEnv({
      AWS_ENDPOINT_URL_S3: endpoint,
      SEALSTREAM_STATE_DIR: state,
      SEALSTREAM_NO_PROGRESS: '1',
      ...extraEnv,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const watch = setInterval(() => {
    for (const j of journals(state)) seen.add(j.text);
  }, 20);
  const exit = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exit, stopWatching: () => clearInterval(watch) };
}

/** SHA-256 of an object's plaintext, read back with the CLI straight from the store. */
export function plaintextHash(
  args: string[],
): Promise<{ sha256: string; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'cat', ...args], {
      env: storeEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hash = createHash('sha256');
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => hash.update(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ sha256: hash.digest('hex'), code, stderr }));
  });
}

/** The forms a key could take in a text file. */
export function keyForms(key: Buffer): string[] {
  return [
    key.toString('base64'),
    key.toString('base64').replace(/=+$/, ''),
    key.toString('base64url'),
    key.toString('hex'),
    key.toString('hex').toUpperCase(),
    key.toString('latin1'),
    // any 12 consecutive bytes of it, hex: a key cut into a field would still show
    key.subarray(0, 12).toString('hex'),
    key.subarray(20).toString('hex'),
  ];
}
