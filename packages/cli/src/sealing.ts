/**
 * Encryption as one Node `Transform` over core's {@link PayloadSealer}: plaintext is gathered into
 * one reused 1 MiB buffer and sealed, 64 chunks per call, straight into the buffer that is pushed.
 * (Instead of `Duplex.fromWeb(encryptStream())`: no web stream, no promise per chunk on the way.)
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CHUNK_SIZE, createSealer, type EncryptOptions, sealedLength } from '@sealstream/core';

/** Plaintext chunks sealed per call: 1 MiB. */
const BATCH_CHUNKS = 64;

/**
 * A Transform that encrypts what is written to it into a sealstream object; `onPlaintext` counts
 * the plaintext bytes as they come in. Each buffer it pushes is fresh (the consumer may hold it).
 */
export function sealingTransform(options: EncryptOptions, onPlaintext: (bytes: number) => void): Transform {
  const plain = Buffer.allocUnsafe(BATCH_CHUNKS * CHUNK_SIZE);
  let filled = 0;
  let begun: ReturnType<typeof createSealer> | undefined;
  const sealer = () => {
    begun ??= createSealer(options);
    return begun;
  };
  const seal = async (transform: Transform, final: boolean) => {
    const { sealer: s } = await sealer();
    const out = Buffer.allocUnsafe(sealedLength(filled, final));
    const n = await s.seal(plain.subarray(0, filled), out, final);
    filled = 0;
    transform.push(out.subarray(0, n));
  };
  return new Transform({
    construct(callback) {
      sealer().then(
        ({ prefix }) => {
          this.push(Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength));
          callback();
        },
        (err: Error) => callback(err),
      );
    },
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      onPlaintext(chunk.length);
      const run = async () => {
        let at = 0;
        while (at < chunk.length) {
          const take = Math.min(plain.length - filled, chunk.length - at);
          chunk.copy(plain, filled, at, at + take);
          filled += take;
          at += take;
          // a full buffer is whole chunks, never the final one (shorter than a chunk)
          if (filled === plain.length) await seal(this, false);
        }
      };
      run().then(() => callback(), callback);
    },
    flush(callback: TransformCallback) {
      seal(this, true).then(() => callback(), callback);
    },
  });
}
