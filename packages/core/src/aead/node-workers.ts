/**
 * node:crypto on worker threads: runs of chunks are split across a small pool of workers, so a
 * stream seals and opens on several cores. Measured on Node 20, one node:crypto call per 16 KiB
 * chunk costs a fixed few microseconds on top of the AES itself, which caps a single thread well
 * below OpenSSL's speed; more threads is the lever that remains.
 * @module
 */

import { nodeCryptoModule } from '../node-crypto.ts';
import { chunkNonce } from '../nonce.ts';
import type { ChunkCipher, CipherBackend } from './backend.ts';
import { nodeBackend } from './node.ts';

const CHUNK = 16384;
const TAG = 16;
const SEALED = CHUNK + TAG;

interface WorkerLike {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (message: Reply) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  ref(): void;
  unref(): void;
}
interface WorkerThreads {
  Worker: new (source: string, options: { eval: true }) => WorkerLike;
}
interface Os {
  availableParallelism?: () => number;
  cpus(): unknown[];
}
interface Reply {
  id: number;
  output: ArrayBuffer;
  ok: number;
}
interface Job {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
}

const builtin = (id: string): unknown =>
  (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
    id,
  );

/** True where worker threads can run this backend. */
export function workersAvailable(): boolean {
  return builtin('node:worker_threads') !== undefined;
}

// The worker: CommonJS, self-contained. It seals or opens one run of chunks per message and
// transfers the output back. `chunkNonce` is the same function the other backends use.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const chunkNonce = ${chunkNonce.toString()};
const CHUNK = ${CHUNK}, TAG = ${TAG}, SEALED = ${SEALED};
parentPort.on('message', (m) => {
  const key = crypto.createSecretKey(m.key);
  const input = new Uint8Array(m.input);
  const base = new Uint8Array(m.base);
  let output, ok = 0;
  if (m.op === 'seal') {
    const count = m.final ? Math.floor(input.length / CHUNK) + 1 : input.length / CHUNK;
    output = new Uint8Array(input.length + count * TAG);
    for (; ok < count; ok++) {
      const start = ok * CHUNK, end = Math.min(start + CHUNK, input.length), at = ok * SEALED;
      const c = crypto.createCipheriv('aes-256-gcm', key, chunkNonce(base, m.first + ok));
      output.set(c.update(input.subarray(start, end)), at);
      c.final();
      output.set(c.getAuthTag(), at + end - start);
    }
  } else {
    const count = m.final ? Math.floor(input.length / SEALED) + 1 : input.length / SEALED;
    output = new Uint8Array(input.length - count * TAG);
    for (; ok < count; ok++) {
      const at = ok * SEALED, end = Math.min(at + SEALED, input.length);
      const d = crypto.createDecipheriv('aes-256-gcm', key, chunkNonce(base, m.first + ok), { authTagLength: TAG });
      d.setAuthTag(input.subarray(end - TAG, end));
      const plain = d.update(input.subarray(at, end - TAG));
      try { d.final(); } catch { break; }
      output.set(plain, ok * CHUNK);
    }
  }
  parentPort.postMessage({ id: m.id, output: output.buffer, ok }, [output.buffer]);
});
`;

/** A worker and the jobs it has in flight; referenced only while it has some, so it never holds the process open. */
class PoolWorker {
  readonly #worker: WorkerLike;
  readonly #jobs = new Map<number, Job>();

  constructor(threads: WorkerThreads) {
    this.#worker = new threads.Worker(WORKER_SOURCE, { eval: true });
    this.#worker.unref();
    this.#worker.on('message', (reply) => {
      const job = this.#jobs.get(reply.id);
      this.#jobs.delete(reply.id);
      if (this.#jobs.size === 0) this.#worker.unref();
      job?.resolve(reply);
    });
    this.#worker.on('error', (err) => {
      for (const job of this.#jobs.values()) job.reject(err);
      this.#jobs.clear();
      pool = undefined; // start afresh next time
    });
  }

  run(id: number, message: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (this.#jobs.size === 0) this.#worker.ref();
      this.#jobs.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id }, transfer);
    });
  }
}

let pool: PoolWorker[] | undefined;
let nextId = 0;

function workers(): PoolWorker[] {
  if (pool) return pool;
  const threads = builtin('node:worker_threads') as WorkerThreads;
  const os = builtin('node:os') as Os;
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  pool = Array.from({ length: Math.max(1, Math.min(cores, 4)) }, () => new PoolWorker(threads));
  return pool;
}

/**
 * Splits a run of `count` chunks into contiguous parts, one per worker; only the last part may
 * hold the final chunk. Returns [first chunk, chunk count] pairs.
 */
function parts(count: number, n: number): [number, number][] {
  const size = Math.ceil(count / n);
  const out: [number, number][] = [];
  for (let first = 0; first < count; first += size) out.push([first, Math.min(size, count - first)]);
  return out;
}

let instance: CipherBackend | undefined;

/** The node:crypto backend on worker threads. Single chunks stay on the calling thread. */
export function nodeWorkersBackend(): CipherBackend {
  if (instance) return instance;
  const inline = nodeBackend();
  if (!nodeCryptoModule()) throw new Error('node:crypto is not available');
  instance = {
    name: 'node-workers',
    async gcm(key: Uint8Array): Promise<ChunkCipher> {
      const single = inline.gcm(key) as ChunkCipher;
      const keyBytes = key.slice();
      const dispatch = async (
        op: 'seal' | 'open',
        baseNonce: Uint8Array,
        first: number,
        input: Uint8Array,
        out: Uint8Array,
        final: boolean,
      ): Promise<number> => {
        const inUnit = op === 'seal' ? CHUNK : SEALED;
        const outUnit = op === 'seal' ? SEALED : CHUNK;
        const count = final ? Math.floor(input.length / inUnit) + 1 : input.length / inUnit;
        const team = workers();
        const ranges = parts(count, team.length);
        const replies = await Promise.all(
          ranges.map(([start, n], i) => {
            const last = start + n === count;
            // A copy of exactly this part, transferred: cloning a view would copy its whole buffer.
            const slice = input.slice(start * inUnit, last ? input.length : (start + n) * inUnit);
            const message = {
              op,
              key: keyBytes,
              base: baseNonce,
              first: first + start,
              input: slice.buffer,
              final: final && last,
            };
            return team[i]!.run(nextId++, message, [slice.buffer]);
          }),
        );
        let ok = 0;
        let at = 0;
        for (const [i, [, n]] of ranges.entries()) {
          const reply = replies[i]!;
          if (reply.ok !== n) {
            // The first failure ends the run: only the chunks before it count as opened.
            out.set(new Uint8Array(reply.output, 0, reply.ok * outUnit), at);
            return ok + reply.ok;
          }
          out.set(new Uint8Array(reply.output), at);
          at += reply.output.byteLength;
          ok += n;
        }
        return ok;
      };
      return {
        seal: single.seal,
        open: single.open,
        async sealRun(baseNonce, first, plain, out, final) {
          await dispatch('seal', baseNonce, first, plain, out, final);
        },
        openRun: (baseNonce, first, sealed, out, final) =>
          dispatch('open', baseNonce, first, sealed, out, final),
      };
    },
    wrapKey: inline.wrapKey,
    unwrapKey: inline.unwrapKey,
  };
  return instance;
}
