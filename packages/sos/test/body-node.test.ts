/**
 * Node `Readable` bodies as the Node entry reads them (body.node.ts `nodeBody`/`chunksOf`): each
 * chunk as the stream pushed it (never joined with its neighbours into a fresh copy), pulled one at
 * a time, with the stream's end, errors and premature close passed on, and cancel destroying it.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chunksOf, nodeBody } from '../src/body.node.ts';
import { openBody, readerOf } from '../src/body.ts';

/** Every chunk a web stream yields, as yielded. */
async function chunks(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of readerOf(stream)) out.push(chunk);
  return out;
}

async function opened(readable: Readable): Promise<ReadableStream<Uint8Array>> {
  return openBody(await nodeBody(readable)).body as ReadableStream<Uint8Array>;
}

describe('a Node Readable as an upload body', () => {
  it('yields the very chunks pushed, even when several wait in the buffer (no joined copy)', async () => {
    const pushed = [new Uint8Array(1000).fill(1), new Uint8Array(2000).fill(2), new Uint8Array(3000).fill(3)];
    let served = false;
    const source = new Readable({
      highWaterMark: 1 << 20,
      read() {
        if (served) return this.push(null);
        served = true;
        // three chunks in one go: the Readable's own async iterator would hand them out as one
        // fresh 6000-byte buffer
        for (const chunk of pushed) this.push(chunk);
      },
    });
    const got = await chunks(await opened(source));
    expect(got).toHaveLength(3);
    for (const [i, chunk] of got.entries()) expect(chunk.buffer).toBe(pushed[i]!.buffer);
  });

  it('pulls one chunk at a time: an endless source is not read ahead', async () => {
    let reads = 0;
    const source = new Readable({
      highWaterMark: 1,
      read() {
        reads++;
        this.push(new Uint8Array(64 * 1024));
      },
    });
    const iterator = readerOf(await opened(source))[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) expect((await iterator.next()).value).toHaveLength(64 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // three taken, at most one or two read ahead by the Readable itself
    expect(reads).toBeLessThanOrEqual(5);
    await iterator.return?.();
    expect(source.destroyed).toBe(true);
  });

  it('passes on an error of the source', async () => {
    let i = 0;
    const source = new Readable({
      read() {
        if (i++ === 2) this.destroy(new Error('disk on fire'));
        else this.push(new Uint8Array(10));
      },
    });
    await expect(chunks(await opened(source))).rejects.toThrow('disk on fire');
  });

  it('a source destroyed before its end without an error is a premature close, not an end', async () => {
    let i = 0;
    const source = new Readable({
      read() {
        if (i++ === 2) this.destroy();
        else this.push(new Uint8Array(10));
      },
    });
    // the body's failure, typed, with the close as its cause: not taken for a broken connection
    const err = await chunks(await opened(source)).catch((e) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', cause: { code: 'ERR_STREAM_PREMATURE_CLOSE' } });
    expect(err.message).toContain('closed before its end');
  });

  it('a source already read to its end, destroyed, or (a web stream) locked is refused before anything is read', async () => {
    const ended = Readable.from([new Uint8Array(10)]);
    for await (const _ of ended);
    const destroyed = Readable.from([new Uint8Array(10)]);
    destroyed.destroy();
    for (const source of [ended, destroyed]) {
      await expect(nodeBody(source)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    const locked = new Blob([new Uint8Array(10)]).stream();
    locked.getReader();
    expect(() => openBody(locked)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('refuses text (an encoding set) with INVALID_ARGUMENT and stops the source', async () => {
    const source = Readable.from(['text', 'more']);
    await expect(chunks(await opened(source))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(source.destroyed).toBe(true);
  });

  it('cancelling the web stream destroys the source', async () => {
    const source = new Readable({ read() {} });
    source.push(new Uint8Array(10));
    const reader = readerOf(chunksOf(source));
    const iterator = reader[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toHaveLength(10);
    const pending = iterator.next();
    reader.cancel(new Error('stop'));
    expect((await pending).done).toBe(true);
    expect(source.destroyed).toBe(true);
  });

  it('an empty source is an empty body', async () => {
    expect(await chunks(await opened(Readable.from([])))).toEqual([]);
  });
});
