/**
 * Reading a Blob (a browser `File`, a Node `fs.openAsBlob`) for an upload so that a file changed
 * under the reader fails the upload instead of being stored as something that is no copy of it.
 * Runtime-neutral: the presigned uploads and `putObject`'s Blob bodies both read through it, each
 * with its own error class.
 * @module
 */

/**
 * Bytes read through one `slice()`: each slice is a new read of the file, which a browser checks
 * against the file as it was picked (Chromium does; one stream over the whole file is checked only
 * when it starts).
 */
export const BLOB_SLICE = 4 * 1024 * 1024;

/** Makes the error of a Blob that cannot be read as it was: `detail` says what was seen. */
export type BlobChanged = (detail: string, cause?: unknown) => Error;

/**
 * The bytes of `blob`, as an upload reads them. A file-backed Blob is read from disk as it goes, so
 * one that is changed, moved or removed after it was taken fails (Chromium says only "TypeError:
 * network error", Node `NotReadableError`), or ends at another length; and one changed while it is
 * read would give a mix of its old and new bytes, sealed and stored as if it were the file. It is
 * read in slices, each checked by the runtime when it starts, and checked once more after the last,
 * so that a change at any time during the read is caught. Each case is the error `changed` makes,
 * rather than the runtime's bare error or an object that is no copy of the file.
 */
export function checkedBlobStream(blob: Blob, changed: BlobChanged): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Bytes read so far, and where the slice being read ends. */
  let read = 0;
  let sliceEnd = 0;
  const unreadable = (cause: unknown) =>
    changed(`${(cause as Error)?.name ?? 'error'} after ${read} of ${blob.size} bytes`, cause);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (reader === undefined) {
          if (read >= blob.size) {
            // the last check: a change while the last slice was read fails this read
            if (blob.size > 0)
              await blob
                .slice(0, 1)
                .arrayBuffer()
                .catch((cause) => Promise.reject(unreadable(cause)));
            controller.close();
            return;
          }
          sliceEnd = Math.min(blob.size, read + BLOB_SLICE);
          reader = blob.slice(read, sliceEnd).stream().getReader();
        }
        let next: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
        try {
          next = await reader.read();
        } catch (cause) {
          throw unreadable(cause);
        }
        if (next.done) {
          reader = undefined;
          if (read !== sliceEnd) throw changed(`it gave ${read} bytes, not ${blob.size}`);
          continue;
        }
        read += next.value.length;
        if (read > sliceEnd) throw changed(`it gave more than its ${blob.size} bytes`);
        controller.enqueue(next.value);
        return;
      }
    },
    cancel(reason) {
      return reader?.cancel(reason);
    },
  });
}

/** Whether `value` is a Blob of this runtime (a `File` is one). */
export function isBlob(value: unknown): value is Blob {
  return typeof Blob === 'function' && value instanceof Blob;
}
