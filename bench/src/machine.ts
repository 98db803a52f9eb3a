// The hardware and software behind the figures: a figure without its machine means little.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_DIR } from './context.ts';

export interface Machine {
  cpu: string;
  cores: number;
  /** CPU features that decide AES-GCM speed: AES-NI, carry-less multiply, AVX2, vector AES. */
  cpuFlags: string[];
  memoryGiB: number;
  os: string;
  node: string;
  /** The OpenSSL inside Node, which the `node` backend uses. */
  nodeOpenssl: string;
  /** The `openssl` command that measured the ceiling. */
  opensslCli: string | null;
  /** The `age` command, when present. */
  ageCli: string | null;
  packages: Record<string, string | null>;
}

const AES_FLAGS = ['aes', 'pclmulqdq', 'avx', 'avx2', 'vaes', 'vpclmulqdq', 'avx512f', 'sha_ni'];

function cpuFlags(): string[] {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => l.startsWith('flags'));
    const flags = new Set(line?.split(':')[1]?.trim().split(/\s+/) ?? []);
    return AES_FLAGS.filter((f) => flags.has(f));
  } catch {
    return [];
  }
}

export function commandVersion(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const requireFromBench = createRequire(join(BENCH_DIR, 'package.json'));
const CORE_DIR = join(BENCH_DIR, '..', 'packages', 'core');
const requireFromCore = createRequire(join(CORE_DIR, 'package.json'));

/**
 * The version of an installed package, looked up from the bench and then from the core (where the
 * noble ciphers live). Walks up from the resolved entry point, since `exports` may hide package.json.
 */
export function packageVersion(name: string): string | null {
  for (const req of [requireFromBench, requireFromCore]) {
    let entry: string;
    try {
      entry = req.resolve(name);
    } catch {
      try {
        entry = fileURLToPath(import.meta.resolve(name, `file://${join(BENCH_DIR, 'package.json')}`));
      } catch {
        continue;
      }
    }
    for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name?: string;
          version?: string;
        };
        if (pkg.name === name) return pkg.version ?? null;
      } catch {
        // no package.json at this level
      }
    }
  }
  return null;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    cpuFlags: cpuFlags(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    nodeOpenssl: process.versions.openssl ?? 'unknown',
    opensslCli: commandVersion('openssl', ['version']),
    ageCli: commandVersion('age', ['--version']),
    packages: Object.fromEntries(
      [
        '@sealstream/core',
        '@sealstream/sos',
        '@noble/ciphers',
        '@aws-crypto/client-node',
        'age-encryption',
      ].map((name) => [name, packageVersion(name)]),
    ),
  };
}
