/**
 * Encryption: `encryptStream()` and `encrypt()` (SPEC §2, §6).
 * @module
 */
import { type BackendChoice, resolveBackend } from './aead/backend.ts';
import { concat, randomBytes } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import { checkIdentity, encodeContext, encodeRecipientsBlock } from './header.ts';
import { derivePayloadKeys } from './kdf.ts';
import { KEY_LENGTH } from './keys.ts';
import { PayloadCipher } from './payload.ts';
import { type Recipient, toWrappers } from './recipients/input.ts';
import { wrapDataKey } from './recipients/wrap.ts';
import { CHUNK_SIZE, SALT_LENGTH, SEALED_CHUNK_SIZE } from './sizes.ts';

/** Options to encrypt an object. */
export interface EncryptOptions {
  /** Who can decrypt: raw keys (bytes or text), `{ key }`, `{ passphrase, workFactor? }`, recipient objects; one or several. */
  recipients: Recipient | Recipient[];
  /** Binds the object to an identity such as `bucket/key` (SPEC §7). */
  identity?: string;
  /** Cipher backend; omitted: the fastest available. */
  backend?: BackendChoice;
  /** @internal Deterministic randomness, for test vectors only. */
  _random?: (length: number) => Uint8Array;
}

/** Chunks sealed before output is handed on: large enqueues keep stream overhead off the hot path. */
const BATCH_CHUNKS = 64;

/** Builds the header and payload keys of a new object. */
async function begin(options: EncryptOptions): Promise<{ prefix: Uint8Array; cipher: PayloadCipher }> {
  if (!options || typeof options !== 'object') {
    throw new SealstreamError('INVALID_ARGUMENT', 'encryption options are required: { recipients: [...] }');
  }
  const wrappers = toWrappers(options.recipients);
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
 * A TransformStream that encrypts a plaintext stream into a sealstream v1 object.
 * Memory stays bounded (about 1 MiB of batch plus one 16 KiB chunk) whatever the size.
 * @example
 * // Web streams
 * await file.stream().pipeThrough(encryptStream({ recipients: [key] })).pipeTo(destination);
 * // Node streams
 * await pipeline(createReadStream(src), Duplex.fromWeb(encryptStream({ recipients: [key] })), createWriteStream(dst));
 * @throws {SealstreamError} `INVALID_ARGUMENT`, `INVALID_KEY` (through the stream) for bad options.
 */
export function encryptStream(options: EncryptOptions): TransformStream<Uint8Array, Uint8Array> {
  let cipher: PayloadCipher;
  const pending = new Uint8Array(CHUNK_SIZE); // a partial chunk carried between writes
  let pendingLength = 0;
  let counter = 0;
  let batch = new Uint8Array(BATCH_CHUNKS * SEALED_CHUNK_SIZE);
  let batchLength = 0;

  const emit = (controller: TransformStreamDefaultController<Uint8Array>) => {
    if (batchLength === 0) return;
    controller.enqueue(batch.subarray(0, batchLength));
    batch = new Uint8Array(BATCH_CHUNKS * SEALED_CHUNK_SIZE);
    batchLength = 0;
  };
  // Seals whole chunks from `plain` (a multiple of CHUNK_SIZE), emitting full batches.
  const sealWhole = async (plain: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) => {
    let offset = 0;
    while (offset < plain.length) {
      const room = BATCH_CHUNKS - batchLength / SEALED_CHUNK_SIZE;
      const n = Math.min(room, (plain.length - offset) / CHUNK_SIZE);
      batchLength += await cipher.seal(
        counter,
        plain.subarray(offset, offset + n * CHUNK_SIZE),
        batch.subarray(batchLength),
        false,
      );
      counter += n;
      offset += n * CHUNK_SIZE;
      if (batchLength === batch.length) emit(controller);
    }
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      const begun = await begin(options);
      cipher = begun.cipher;
      controller.enqueue(begun.prefix);
    },
    async transform(chunk, controller) {
      if (!(chunk instanceof Uint8Array)) {
        throw new SealstreamError(
          'INVALID_ARGUMENT',
          `encryptStream expects Uint8Array chunks, got ${typeof chunk}`,
        );
      }
      let offset = 0;
      if (pendingLength > 0) {
        offset = Math.min(CHUNK_SIZE - pendingLength, chunk.length);
        pending.set(chunk.subarray(0, offset), pendingLength);
        pendingLength += offset;
        if (pendingLength < CHUNK_SIZE) return;
        await sealWhole(pending, controller);
        pendingLength = 0;
      }
      // Whole chunks straight from the input, without copying them first.
      const whole = Math.floor((chunk.length - offset) / CHUNK_SIZE) * CHUNK_SIZE;
      if (whole > 0) await sealWhole(chunk.subarray(offset, offset + whole), controller);
      offset += whole;
      pending.set(chunk.subarray(offset), 0);
      pendingLength = chunk.length - offset;
      // Hand on what is sealed once it is worth an enqueue, so slow sources still flow.
      if (batchLength >= 16 * SEALED_CHUNK_SIZE) emit(controller);
    },
    async flush(controller) {
      if (batch.length - batchLength < SEALED_CHUNK_SIZE) emit(controller);
      batchLength += await cipher.seal(
        counter,
        pending.subarray(0, pendingLength),
        batch.subarray(batchLength),
        true,
      );
      emit(controller);
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
  const chunks = Math.floor(plaintext.length / CHUNK_SIZE) + 1;
  const out = new Uint8Array(prefix.length + plaintext.length + chunks * 16);
  out.set(prefix, 0);
  await cipher.seal(0, plaintext, out.subarray(prefix.length), true);
  return out;
}
