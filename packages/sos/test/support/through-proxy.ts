/**
 * Running a test against the real S3 server through the fault proxy, with short time bounds, and
 * timing how a call settles: shared by the fault tests.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { createSosClient } from '../../src/index.ts';
import { type Fault, type FaultProxy, startFaultProxy } from './fault-proxy.ts';

/** Short bounds so that stalls are noticed quickly. */
export const FAST = { connectMs: 2000, idleMs: 2000, requestMs: 15_000, cleanupMs: 5000 };
/**
 * Longest a call may take under FAST: two attempts of a stalled request (idle bound each, SDK
 * backoff between), four resumes with backoff, and a cleanup. A call still pending then has hung.
 */
export const SETTLE_BOUND_MS = 25_000;

/** Runs `test` with a proxy armed with `faults` and a client through it; closes the proxy after. */
export async function throughProxy(
  faults: Fault[],
  test: (proxy: FaultProxy, client: S3Client) => Promise<void>,
  timeouts: Partial<typeof FAST> = {},
): Promise<void> {
  const s3 = inject('s3');
  const proxy = await startFaultProxy(s3.endpoint, faults);
  const client = createSosClient({
    endpoint: proxy.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ca: s3.caFile,
    timeouts: { ...FAST, ...timeouts },
    clientConfig: { maxAttempts: 2 },
  });
  try {
    await test(proxy, client);
  } finally {
    client.destroy();
    await proxy.close();
  }
}

/** Runs `work` and reports how it settled and how long it took. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    const value = await work();
    return { value, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

/** An outage of the store starting at byte `at` of all server-to-client traffic. */
export function outageAt(at: number, mode: 'reset' | 'stall'): Fault {
  return { direction: 'down', at, connection: 'total', action: { kind: 'outage', mode } };
}
