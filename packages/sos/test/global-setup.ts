/**
 * Vitest global setup: starts the project's S3 test server (scripts/s3-server/start.sh, reused
 * when already running) and hands its endpoint, credentials and CA to the tests.
 * There is no skip: without the server the run fails, with what to do about it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

/** What tests get through `inject('s3')`. */
export interface S3TestEnv {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  caFile: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3: S3TestEnv;
  }
}

const root = resolve(import.meta.dirname, '../../..');
const scripts = join(root, 'scripts/s3-server');
const stateDir = process.env.SEALSTREAM_S3_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'sealstream-s3');

let startedHere = false;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const wasRunning = existsSync(join(stateDir, 'cluster/run/pids'));
  const install = process.env.CI === 'true' || process.env.SEALSTREAM_S3_INSTALL === '1';
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(
      'bash',
      [join(scripts, 'start.sh'), ...(install ? ['--install'] : [])],
      {
        timeout: 180_000,
        maxBuffer: 16 << 20,
      },
    ));
  } catch (err) {
    const e = err as { code?: number; stderr?: string; message: string };
    const hint =
      e.code === 2
        ? 'Ceph/radosgw is not installed: run `bash scripts/s3-server/install.sh` as root (or set SEALSTREAM_S3_INSTALL=1).'
        : e.code === 3
          ? 'Ceph/radosgw is missing and cannot be installed here (needs root and apt-get).'
          : 'see the server output above.';
    throw new Error(
      `The S3 test server did not start, so the @sealstream/sos integration tests cannot run${process.env.CI === 'true' ? ' (CI: this is a failure, not a skip)' : ''}. ${hint}\n${e.stderr ?? e.message}`,
    );
  }
  startedHere = !wasRunning;
  const env = parseEnvFile(stdout);
  const s3: S3TestEnv = {
    endpoint: need(env, 'S3_ENDPOINT'),
    accessKeyId: need(env, 'AWS_ACCESS_KEY_ID'),
    secretAccessKey: need(env, 'AWS_SECRET_ACCESS_KEY'),
    region: need(env, 'AWS_REGION'),
    caFile: need(env, 'AWS_CA_BUNDLE'),
  };
  project.provide('s3', s3);

  return async () => {
    // leave a server that was already running (a developer's, or a benchmark's) alone
    if (startedHere && process.env.SEALSTREAM_S3_KEEP !== '1') {
      await promisify(execFile)('bash', [join(scripts, 'stop.sh')]).catch(() => {});
    }
  };
}

function parseEnvFile(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env.set(m[1]!, m[2]!);
  }
  return env;
}

function need(env: Map<string, string>, name: string): string {
  const value = env.get(name);
  if (!value) throw new Error(`scripts/s3-server/start.sh printed no ${name}`);
  return value;
}
