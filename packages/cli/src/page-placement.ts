/**
 * Where the file loops put the bytes the kernel copies for them, within a 4 KiB page.
 *
 * The kernel copies each `pread` out of the page cache and each `write` into it with `rep movsb`.
 * On this machine's AMD EPYC that copy runs about five times slower when the destination's offset in
 * its 4 KiB page is 1 to 32 bytes past the source's (measured on a cached 1 GiB file, 256 KiB reads:
 * 0.50-0.70 s of system time instead of 0.12-0.14; every other relative offset tried, 0 and 33 to
 * 4095, was fast). That is the case the loops met every time: the page cache holds the file at its own
 * page offsets (0 for reads from the start of a file in 256 KiB blocks), while glibc puts a large
 * allocation (Node's 256 KiB buffers, the writer's ring) 16 bytes into a page. The profile showed it
 * as the kernel's copy for `pread` taking more samples than AES-GCM itself.
 *
 * JavaScript cannot see an address, so the native addon reports a buffer's offset in its page
 * (`pageOffset`: it reads no memory), and a {@link PlacedBuffer} has one page of slack from which to
 * pick, for each read or write, the view that starts at the same page offset as the file position it
 * is copied from or to. Without the addon (not installed, not built for this platform, an older
 * build) the views start at the buffer's start, as before: the same bytes, just slower copies.
 * @module
 */
import { nativeAddon } from './native-addon.ts';

/** The granule the copy is sensitive to: the low 12 bits of the two addresses. */
export const PAGE = 4096;

/** The address of a view's first byte modulo {@link PAGE}. */
export type PageOffset = (bytes: Uint8Array) => number;

/**
 * The addon's `pageOffset`, or undefined when it is not there (not installed, or a build from source
 * of an earlier checkout). Whatever the cipher backend: it reads no data and seals nothing
 * (`SEALSTREAM_BACKEND=node` still leaves it in use).
 */
export function nativePageOffset(): PageOffset | undefined {
  const fn = nativeAddon()?.pageOffset;
  return typeof fn === 'function' ? fn : undefined;
}

/**
 * A buffer for copies of up to `size` bytes, one {@link PAGE} longer than that when addresses are
 * known, and views of it placed for a file position.
 */
export class PlacedBuffer {
  readonly size: number;
  readonly #bytes: Uint8Array;
  /** The buffer's own page offset, or undefined when it cannot be known. */
  readonly #base: number | undefined;

  /**
   * @param size - The longest view {@link PlacedBuffer.at} returns.
   * @param pageOffset - Where a buffer starts in its page (the addon's); without it, no placement.
   * @param storage - Memory to use (at least `size + PAGE` bytes with `pageOffset`, `size` without),
   *   e.g. a slot of shared memory; by default a fresh buffer.
   */
  constructor(size: number, pageOffset: PageOffset | undefined, storage?: Uint8Array) {
    const length = pageOffset ? size + PAGE : size;
    if (storage !== undefined && storage.length < length) {
      throw new RangeError(`storage of ${storage.length} bytes for views of ${size} bytes, ${length} needed`);
    }
    this.size = size;
    this.#bytes = storage ?? new Uint8Array(length);
    this.#base = pageOffset?.(this.#bytes);
  }

  /** Bytes a buffer for views of `size` bytes takes (with the page of slack when `pageOffset` is known). */
  static storageFor(size: number, pageOffset: PageOffset | undefined): number {
    return pageOffset ? size + PAGE : size;
  }

  /**
   * A view of {@link PlacedBuffer.size} bytes whose first byte has the page offset of file position
   * `position` (or the buffer's start when addresses are unknown).
   */
  at(position: number): Uint8Array {
    const skip = this.#base === undefined ? 0 : placement(this.#base, position);
    return this.#bytes.subarray(skip, skip + this.size);
  }
}

/** The bytes to skip from a buffer at page offset `base` so that a view starts at `position`'s page offset. */
export function placement(base: number, position: number): number {
  return ((((position % PAGE) - base) % PAGE) + PAGE) % PAGE;
}
