/**
 * Encryption: `encryptStream()` and `encrypt()` (SPEC §2, §6).
 * @module
 */
import { type BackendChoice, resolveBackend } from './aead/backend.ts';
import { allocUninitialized } from './alloc.ts';
import { concat, randomBytes } from './bytes.ts';
import { ChunkRuns } from './chunk-runs.ts';
import { SealstreamError } from './errors.ts';
import { checkIdentity, encodeContext, encodeRecipientsBlock } from './header.ts';
import { derivePayloadKeys } from './kdf.ts';
import { KEY_LENGTH } from './keys.ts';
import { PayloadCipher, PayloadSealer, sealedLength } from './payload.ts';
import { type Recipient, toWrappers } from './recipients/input.ts';
import { distinctWrappers, wrapDataKey } from './recipients/wrap.ts';
import { runStream } from './run-stream.ts';
import { CHUNK_SIZE, SALT_LENGTH, SEALED_CHUNK_SIZE } from './sizes.ts';
import { untilGone } from './stream-output.ts';
import { encryptStreamOnSubtle, wantsSubtleStream } from './subtle-streams.ts';
import { encryptStreamInWorkers, type WorkersOption, wantsWorkers } from './worker/streams.ts';

/** Options to encrypt an object. */
export interface EncryptOptions {
  /**
   * Who can decrypt: raw keys (bytes or text), `{ key }`, `{ passphrase, workFactor? }`, recipient
   * objects; one or several. A key given twice gets one stanza.
   */
  recipients: Recipient | Recipient[];
  /** Binds the object to an identity such as `bucket/key` (SPEC §7). */
  identity?: string;
  /** Cipher backend; omitted: the fastest available. */
  backend?: BackendChoice;
  /** Seal the chunks in Web Workers (browsers, WebCrypto; `encryptStream` only): a count, `'auto'`, or a shared `createWorkerPool()`. */
  workers?: WorkersOption;
  /** @internal Deterministic randomness, for test vectors only. */
  _random?: (length: number) => Uint8Array;
}

/** Most chunks sealed into one output buffer: large enqueues keep stream overhead off the hot path. */
const BATCH_CHUNKS = 64;

/** Builds the header and payload keys of a new object (also for resume.ts). */
export async function begin(options: EncryptOptions): Promise<{ prefix: Uint8Array; cipher: PayloadCipher }> {
  if (!options || typeof options !== 'object') {
    throw new SealstreamError('INVALID_ARGUMENT', 'encryption options are required: { recipients: [...] }');
  }
  // one stanza per key, as a rewrap does: a key given twice is wrapped once
  const wrappers = distinctWrappers(toWrappers(options.recipients));
  if (options.identity !== undefined) {
    checkIdentity(options.identity, (m) => new SealstreamError('INVALID_ARGUMENT', m));
  }
  const backend = resolveBackend(options.backend);
  const random = options._random ?? randomBytes;
  const dataKey = random(KEY_LENGTH);
  const salt = random(SALT_LENGTH);
  const context = encodeContext({ identity: options.identity });
  const stanzas = await wrapDataKey(dataKey, wrappers, backend, random);
  const keys = derivePayloadKeys(dataKey, salt, context);
  const prefix = concat(context, encodeRecipientsBlock(stanzas), salt, keys.commitment);
  return { prefix, cipher: await PayloadCipher.create(backend, keys) };
}

/**
 * Starts a new object for a caller that drives the chunks itself (a tight file loop with reused
 * buffers): the bytes that go first (header, salt, commitment) and a {@link PayloadSealer} for the
 * payload. {@link encryptStream} is the same thing as a stream.
 * @example
 * const { prefix, sealer } = await createSealer({ recipients: [key] });
 * await write(prefix);
 * const plain = new Uint8Array(64 * CHUNK_SIZE), out = new Uint8Array(sealedLength(plain.length, true));
 * for (;;) {
 *   const n = await readFull(plain); // whole chunks until the end of the input
 *   const final = n < plain.length;
 *   await write(out.subarray(0, await sealer.seal(plain.subarray(0, n), out, final)));
 *   if (final) break;
 * }
 * @throws {SealstreamError} `INVALID_ARGUMENT`, `INVALID_KEY` for bad options.
 */
export async function createSealer(
  options: EncryptOptions,
): Promise<{ prefix: Uint8Array; sealer: PayloadSealer }> {
  const { prefix, cipher } = await begin(options);
  return { prefix, sealer: new PayloadSealer(cipher) };
}

/**
 * A TransformStream that encrypts a plaintext stream into a sealstream v1 object.
 * Memory stays bounded (one 16 KiB partial chunk, plus output of up to 64 sealed chunks per enqueue)
 * whatever the size. Each buffer it enqueues is a fresh one, never written again; on the backends that
 * seal in the calling thread, a BYOB reader can lend its own buffer instead (README: BYOB reads).
 * @example
 * // Web streams
 * await file.stream().pipeThrough(encryptStream({ recipients: [key] })).pipeTo(destination);
 * // Node streams
 * await pipeline(createReadStream(src), Duplex.fromWeb(encryptStream({ recipients: [key] })), createWriteStream(dst));
 * @throws {SealstreamError} `INVALID_ARGUMENT`, `INVALID_KEY` (through the stream) for bad options.
 */
export function encryptStream(options: EncryptOptions): TransformStream<Uint8Array, Uint8Array> {
  if (wantsWorkers(options))
    return encryptStreamInWorkers(options as typeof options & { workers: WorkersOption });
  if (wantsSubtleStream(options)) return encryptStreamOnSubtle(options);
  let sealer: PayloadSealer;
  const runs = new ChunkRuns(CHUNK_SIZE, SEALED_CHUNK_SIZE, BATCH_CHUNKS);
  const seal = (plain: Uint8Array, out: Uint8Array) => sealer.seal(plain, out, false);

  return runStream({
    async start(output) {
      const begun = await createSealer(options);
      sealer = begun.sealer;
      await untilGone(async () => output.emit(begun.prefix));
    },
    async transform(chunk, output) {
      if (!(chunk instanceof Uint8Array)) {
        throw new SealstreamError(
          'INVALID_ARGUMENT',
          `encryptStream expects Uint8Array chunks, got ${typeof chunk}`,
        );
      }
      await untilGone(() => runs.push(chunk, seal, output));
    },
    async flush(output) {
      const last = runs.pending;
      const out = allocUninitialized(sealedLength(last.length, true));
      await sealer.seal(last, out, true);
      await untilGone(async () => output.emit(out));
    },
  });
}

/**
 * Encrypts bytes in memory. For anything large, use {@link encryptStream}.
 * @example
 * const sealed = await encrypt(new TextEncoder().encode('hello'), { recipients: [key] });
 */
export async function encrypt(plaintext: Uint8Array, options: EncryptOptions): Promise<Uint8Array> {
  if (!(plaintext instanceof Uint8Array)) {
    throw new SealstreamError('INVALID_ARGUMENT', `encrypt expects a Uint8Array, got ${typeof plaintext}`);
  }
  const { prefix, cipher } = await begin(options);
  const out = new Uint8Array(prefix.length + sealedLength(plaintext.length, true));
  out.set(prefix, 0);
  await cipher.seal(0, plaintext, out.subarray(prefix.length), true);
  return out;
}
