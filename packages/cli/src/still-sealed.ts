/**
 * Bytes copied as they are although they are sealstream data: a download or `cat` without any
 * client-side key writes an object as it is stored, and for a sealed object that is ciphertext.
 * Nothing is wrong with that (a copy of the ciphertext is a fine backup), but a user who forgot the
 * key would otherwise be told only `copied ... 191 MiB` and find out at `tar x`.
 * @module
 */
import { Transform } from 'node:stream';
import { MAX_HEADER_LENGTH, readHeaderLength } from '@sealstream/core';
import type { Reporter } from './report.ts';

/**
 * A pass-through that calls `onSealed` once if its bytes start with a whole sealstream prelude
 * (magic, a supported version and plausible section lengths: core's `readHeaderLength` gives a
 * length). It never delays or changes a byte; it keeps a copy of the start only until it can tell.
 * @param onSealed - Called at most once, as soon as the start is recognised.
 */
function sealedDetector(onSealed: () => void): Transform {
  let prefix: Uint8Array = new Uint8Array(0);
  let decided = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!decided) {
        const joined = new Uint8Array(prefix.length + chunk.length);
        joined.set(prefix);
        joined.set(chunk, prefix.length);
        prefix = joined;
        let length: number | undefined;
        try {
          length = readHeaderLength(prefix);
        } catch {
          // not sealstream data (or a header no reader would open): nothing to say
          decided = true;
        }
        if (length !== undefined) {
          decided = true;
          onSealed();
        } else if (prefix.length > MAX_HEADER_LENGTH) {
          decided = true;
        }
        if (decided) prefix = new Uint8Array(0);
      }
      callback(null, chunk);
    },
  });
}

/**
 * A pass-through for data written without any client-side key: warns once when it is sealstream
 * data, which is then written still encrypted.
 * @param what - The source, as the user named it (`s3://bucket/key`, a path).
 * @param onSealed - Also called then (for a result that says it, such as `cp --json`).
 */
export function warnIfSealed(what: string, reporter: Reporter, onSealed?: () => void): Transform {
  return sealedDetector(() => {
    onSealed?.();
    reporter.warn(
      `${what} is sealstream data (client-side encrypted) and no key was given: its bytes are written as they are, still encrypted; to decrypt it, give --key-file FILE, -i FILE or the passphrase`,
    );
  });
}
