/**
 * Which cipher backend did the work is in the `--json` result of `encrypt` and `decrypt`: the
 * native addon when it loads, node:crypto when `SEALSTREAM_NATIVE=0` keeps it off (or
 * `SEALSTREAM_BACKEND` names another), so a user can tell without reading node_modules.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { buildCli, run, tempDir } from './helpers.ts';

let dir: string;

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  expect((await run(['keygen', '-o', join(dir, 'k'), '--quiet'])).code).toBe(0);
  writeFileSync(join(dir, 'plain'), randomBytes(100_000));
});

/** The environment of this run without the backend variables, plus `extra`. */
function envWith(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && k !== 'SEALSTREAM_BACKEND' && k !== 'SEALSTREAM_NATIVE') env[k] = v;
  }
  return { ...env, ...extra };
}

let runs = 0;

/** The `backend` of a run's JSON result; encrypt writes `sealed-N`, decrypt opens the newest of them. */
async function backendOf(command: 'encrypt' | 'decrypt', env: Record<string, string>): Promise<string> {
  const input = join(dir, command === 'encrypt' ? 'plain' : `sealed-${runs}`);
  const output = join(dir, command === 'encrypt' ? `sealed-${++runs}` : `opened-${runs}`);
  const r = await run([command, '--key-file', join(dir, 'k'), '-o', output, input, '--json'], { env });
  expect(r.code, r.stderr.toString()).toBe(0);
  return JSON.parse(r.stdout.toString()).backend;
}

it('encrypt and decrypt say which backend sealed and opened: native, or node:crypto with the addon off', async () => {
  // the CI run with the addon disabled names its backend in SEALSTREAM_BACKEND: expected there too
  const automatic = process.env.SEALSTREAM_BACKEND || 'native';
  const asRun = envWith(process.env.SEALSTREAM_BACKEND ? { SEALSTREAM_BACKEND: automatic } : {});
  expect(await backendOf('encrypt', asRun)).toBe(automatic);
  expect(await backendOf('decrypt', asRun)).toBe(automatic);
  const off = envWith({ SEALSTREAM_NATIVE: '0' });
  expect(await backendOf('encrypt', off)).toBe('node');
  expect(await backendOf('decrypt', off)).toBe('node');
});
