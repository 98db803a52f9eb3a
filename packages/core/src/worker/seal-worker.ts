/**
 * The sealing Worker's script (a module Worker): holds the payload keys the page sends it and seals
 * or opens the runs of chunks it is given, with the WebCrypto chunk cipher of the page-thread path.
 * Started by {@link WorkerPool} as `new URL('./seal-worker.js', import.meta.url)`.
 * @module
 */
import { type GcmParts, gcmParts } from '../aead/webcrypto.ts';
import { type FromWorker, processRun, type ToWorker } from './protocol.ts';

interface WorkerScope {
  onmessage: ((event: { data: ToWorker }) => void) | null;
  postMessage(message: FromWorker, transfer?: ArrayBuffer[]): void;
}

const scope = globalThis as unknown as WorkerScope;
const ciphers = new Map<number, GcmParts>();

async function run(message: Extract<ToWorker, { kind: 'run' }>): Promise<void> {
  const cipher = ciphers.get(message.keyId);
  if (!cipher) {
    scope.postMessage({
      kind: 'failed',
      job: message.job,
      message: `no key ${message.keyId} in this worker`,
    });
    return;
  }
  try {
    const input = new Uint8Array(message.input, message.offset, message.length);
    const { parts, ok } = await processRun(cipher, message.direction, message.nonces, input);
    scope.postMessage({ kind: 'done', job: message.job, parts, ok, input: message.input }, [
      ...parts,
      message.input,
    ]);
  } catch (err) {
    scope.postMessage({ kind: 'failed', job: message.job, message: String((err as Error)?.message ?? err) });
  }
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.kind === 'key') ciphers.set(message.keyId, gcmParts(message.key));
  else if (message.kind === 'forget') ciphers.delete(message.keyId);
  else void run(message);
};
scope.postMessage({ kind: 'ready' });
