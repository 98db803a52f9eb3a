import { describe, expect, test } from 'vitest';
import { takeInOrder } from '../src/aead/webcrypto-window.ts';

/** Calls that settle in a scrambled order, recording how many were unsettled at once. */
function scrambled() {
  let inFlight = 0;
  let most = 0;
  const issued: number[] = [];
  const issue = (i: number) => {
    issued.push(i);
    most = Math.max(most, ++inFlight);
    return new Promise<number>((resolve) =>
      setTimeout(
        () => {
          inFlight--;
          resolve(i * 10);
        },
        (i * 7) % 5,
      ),
    );
  };
  return { issue, issued, most: () => most };
}

describe('takeInOrder', () => {
  test('takes every result in index order, never more than the window in flight', async () => {
    const calls = scrambled();
    const taken: Array<[number, number]> = [];
    const n = await takeInOrder(50, 8, calls.issue, (i, r) => {
      taken.push([i, r]);
      return true;
    });
    expect(n).toBe(50);
    expect(taken).toEqual(Array.from({ length: 50 }, (_, i) => [i, i * 10]));
    expect(calls.most()).toBe(8);
  });

  test('stops at the first take that returns false: nothing later is taken, nothing beyond the window is issued', async () => {
    const calls = scrambled();
    const taken: number[] = [];
    const n = await takeInOrder(100, 4, calls.issue, (i) => {
      taken.push(i);
      return i !== 6;
    });
    expect(n).toBe(6);
    expect(taken).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Math.max(...calls.issued)).toBeLessThan(6 + 4);
  });

  test('a rejected call rejects the whole, and later rejections are not left unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const issue = (i: number) => (i >= 3 ? Promise.reject(new Error(`call ${i}`)) : Promise.resolve(i));
      await expect(takeInOrder(10, 5, issue, () => true)).rejects.toThrow('call 3');
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('zero calls: nothing issued', async () => {
    const calls = scrambled();
    expect(await takeInOrder(0, 4, calls.issue, () => true)).toBe(0);
    expect(calls.issued).toEqual([]);
  });
});
