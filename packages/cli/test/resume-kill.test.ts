import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listIncompleteUploads } from '@sealstream/sos';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { abortAllUploads } from '../../sos/test/incomplete-helpers.ts';
import type { ResumeReport } from '../src/resume.ts';
import { buildCli, run, tempDir } from './helpers.ts';
import { journals, keyForms, plaintextHash, startCp } from './resume-helpers.ts';
import { type Exchange, type Gate, type S3Proxy, startS3Proxy } from './resume-proxy.ts';

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let proxy: S3Proxy;
let dir: string;
let source: { path: string; sha256: string };
let rawKey: Buffer;
let sseCKey: Buffer;
const keyFile = () => join(dir, 'key');
const sseCFile = () => join(dir, 'ssec');

/**
 * The 1 GiB source, made once and kept in the temporary folder for later runs: an AES-256-CTR
 * keystream (incompressible, the same on every machine), with its SHA-256 beside it.
 */
function bigFile(): { path: string; sha256: string } {
  const path = join(tmpdir(), 'sealstream-resume-test-1gib-v1.bin');
  const sumPath = `${path}.sha256`;
  if (existsSync(sumPath) && existsSync(path) && readFileSync(sumPath, 'utf8').length === 64) {
    return { path, sha256: readFileSync(sumPath, 'utf8') };
  }
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 0));
  const hash = createHash('sha256');
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  const zeros = Buffer.alloc(8 * MiB);
  for (let done = 0; done < SIZE; done += zeros.length) {
    const block = cipher.update(zeros);
    hash.update(block);
    writeSync(fd, block);
  }
  closeSync(fd);
  renameSync(temp, path);
  const sha256 = hash.digest('hex');
  writeFileSync(sumPath, sha256);
  return { path, sha256 };
}

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  const s3 = inject('s3');
  proxy = await startS3Proxy(s3.endpoint, s3.caFile);
  dir = tempDir();
  expect((await run(['keygen', '-o', keyFile(), '-q'])).code).toBe(0);
  expect((await run(['keygen', '-o', sseCFile(), '-q'])).code).toBe(0);
  rawKey = Buffer.from(readFileSync(keyFile(), 'utf8').trim(), 'base64');
  sseCKey = Buffer.from(readFileSync(sseCFile(), 'utf8').trim(), 'base64');
  expect(rawKey.length).toBe(32);
  expect(sseCKey.length).toBe(32);
  source = bigFile();
}, 600_000);

afterAll(async () => {
  await proxy?.close();
  if (client && bucket) await abortAllUploads(client, bucket);
  await cleanup?.();
  client?.destroy();
});

/** A point to kill the upload at: which requests of the run pass, which stop where, and when to kill. */
interface KillPoint {
  name: string;
  /** Part requests of the run that go through whole, before the special ones. */
  pass: number;
  /** What happens to the next part requests, in order (the ones after them are held). */
  next: Gate[];
  /**
   * Instead of `pass`/`next`, by part number: `'first'` cuts part 1 and holds the others;
   * `'last'` cuts the last part and lets every other through.
   */
  part?: { which: 'first' | 'last'; gate: Gate };
  /** The completion: held before the server sees it, or done by the server with the answer withheld. */
  complete?: 'hold' | 'holdAnswer';
}

/** One row of the table printed at the end. */
interface Row {
  mode: string;
  point: string;
  /** Parts the journal recorded when the run was killed. */
  journaled: number;
  /** Part bytes forwarded to the server in the killed run for parts the journal does not record. */
  cutBytes: number;
  /** What the next run said it skipped. */
  skipped: string;
  /** Part bytes the next run sent for parts that earlier runs had already sent (wholly or in part). */
  resentBytes: number;
  resentParts: number;
}

const rows: Row[] = [];

/** The gate of a kill point: counts this run's part requests. */
function gateOf(point: KillPoint, planned: number): (x: Exchange) => Gate {
  let parts = 0;
  return (x) => {
    if (x.kind === 'complete') return point.complete ? { kind: point.complete } : { kind: 'pass' };
    // the parts before a completion go through
    if (x.kind !== 'part' || point.complete) return { kind: 'pass' };
    if (point.part) {
      const target = point.part.which === 'first' ? 1 : planned;
      if (x.part === target) return point.part.gate;
      return { kind: point.part.which === 'first' ? 'hold' : 'pass' };
    }
    const i = parts++;
    if (i < point.pass) return { kind: 'pass' };
    return point.next[i - point.pass] ?? { kind: 'hold' };
  };
}

/** True when a request stopped by `gate` got as far as the gate lets it. */
function stopped(x: Exchange, gate: Gate): boolean {
  if (gate.kind === 'cut') return x.begun && x.forwarded >= Math.min(gate.after, x.length);
  if (gate.kind === 'holdAnswer') return x.status !== undefined;
  return true;
}

/** True once the run reached the state the kill point describes. */
function reached(point: KillPoint, runNumber: number, journaledBefore: number, state: string): boolean {
  const mine = proxy.exchanges.filter((x) => x.run === runNumber);
  const parts = mine.filter((x) => x.kind === 'part');
  const journal = journals(state)[0];
  if (point.complete) {
    const c = mine.find((x) => x.kind === 'complete');
    return c !== undefined && (point.complete === 'hold' || c.status !== undefined);
  }
  if (point.part) {
    const target = point.part.which === 'first' ? 1 : (journal?.planned ?? -1);
    const x = parts.find((p) => p.part === target);
    if (x === undefined || !stopped(x, point.part.gate)) return false;
    // 'last': every other part is stored and journaled
    return point.part.which === 'first' || journal?.parts === journal!.planned - 1;
  }
  if (parts.length < point.pass + point.next.length) return false;
  if (!parts.slice(0, point.pass).every((x) => x.relayed)) return false;
  const special = parts.slice(point.pass, point.pass + point.next.length);
  if (!point.next.every((gate, i) => stopped(special[i]!, gate))) return false;
  // the passed parts are in the journal (written after each answer)
  return (journal?.parts ?? 0) >= journaledBefore + point.pass;
}

/**
 * Bytes of part requests of run `r` whose part number an earlier run of the same chain (from run
 * `first`) had already begun to send.
 */
function resent(r: number, first: number): { bytes: number; parts: number } {
  const before = new Set(
    proxy.exchanges
      .filter((x) => x.kind === 'part' && x.run >= first && x.run < r && x.begun)
      .map((x) => x.part),
  );
  const again = proxy.exchanges.filter((x) => x.kind === 'part' && x.run === r && before.has(x.part));
  return { bytes: again.reduce((a, x) => a + x.forwarded, 0), parts: again.length };
}

/**
 * Runs one chain: kills the upload at each point in turn (each run resuming the previous one),
 * then completes it and checks the object, the store and the journals.
 */
async function chain(
  mode: string,
  keyArgs: string[],
  readArgs: string[],
  points: KillPoint[],
  keys: Buffer[],
) {
  const state = tempDir();
  const seen = new Set<string>();
  const target = `s3://${bucket}/${mode}.bin`;
  const args = ['cp', ...keyArgs, source.path, target];
  const pending: Omit<Row, 'skipped' | 'resentBytes' | 'resentParts'>[] = [];
  let journaled = 0;
  let runNumber = 0;
  let first: number | undefined;
  // what the next run said it skipped: its status line, or with --json its `resumed`
  const finishRow = (said: string, r: number) => {
    const row = pending.shift();
    if (row === undefined) return;
    const skipped =
      /(\d+ of \d+ parts \([^)]*\)) already stored/.exec(said)?.[1] ?? 'nothing (started over?)';
    const again = resent(r, first!);
    rows.push({ ...row, skipped, resentBytes: again.bytes, resentParts: again.parts });
  };
  for (const point of points) {
    runNumber = proxy.nextRun();
    first ??= runNumber;
    proxy.gate(gateOf(point, journals(state)[0]?.planned ?? -1));
    const cp = startCp(args, state, seen, proxy.endpoint);
    const exited = cp.exit.then((e) => {
      throw new Error(`the run meant to be killed at "${point.name}" ended first (${e.code}): ${e.stderr}`);
    });
    await Promise.race([
      proxy.until(() => reached(point, runNumber, journaled, state), point.name, 300_000),
      exited,
    ]);
    cp.child.kill('SIGKILL');
    const killed = await cp.exit;
    cp.stopWatching();
    proxy.dropAll();
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    finishRow(killed.stderr, runNumber);
    const now = journals(state);
    expect(now, `a journal after the kill at ${point.name}`).toHaveLength(1);
    for (const j of now) seen.add(j.text);
    const mine = proxy.exchanges.filter(
      (x) => x.run === runNumber && x.kind === 'part' && x.status === undefined,
    );
    pending.push({
      mode,
      point: point.name,
      journaled: now[0]!.parts,
      cutBytes: mine.reduce((a, x) => a + x.forwarded, 0),
    });
    journaled = now[0]!.parts;
  }
  // the last run completes it
  runNumber = proxy.nextRun();
  proxy.gate(() => ({ kind: 'pass' }));
  const cp = startCp([...args, '--json'], state, seen, proxy.endpoint);
  const done = await cp.exit;
  cp.stopWatching();
  expect(done.code, done.stderr).toBe(0);
  const result = JSON.parse(done.stdout) as { files: { size: number; resumed?: ResumeReport }[] };
  const r = result.files[0]!.resumed;
  finishRow(
    r
      ? `${r.partsSkipped} of ${r.partsTotal} parts (${(r.bytesSkipped / MiB).toFixed(0)} MiB) already stored`
      : '',
    runNumber,
  );
  expect(result.files[0]!.size).toBe(SIZE);
  expect(result.files[0]!.resumed).toBeDefined();

  // the object is the file, no upload is left, the journal is gone
  const read = await plaintextHash([...readArgs, target]);
  expect(read.code, read.stderr).toBe(0);
  expect(read.sha256).toBe(source.sha256);
  expect(await listIncompleteUploads({ client, bucket })).toEqual([]);
  expect(journals(state)).toEqual([]);
  expect(readdirSync(join(state, 'uploads'))).toEqual([]);
  // no journal version ever held a key, in any spelling
  expect(seen.size).toBeGreaterThanOrEqual(points.length);
  for (const text of seen) {
    for (const key of keys) for (const form of keyForms(key)) expect(text.includes(form)).toBe(false);
  }
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${mode}.bin` }));
}

const half = 4 * MiB;

/**
 * The 10 kill points, in the order one chain meets them: during part 1, between parts, parts cut or
 * their answers lost mid-upload, during the last part, and on both sides of the completion.
 */
const TEN_POINTS: KillPoint[] = [
  {
    name: 'during part 1 (4 MiB of it sent)',
    pass: 0,
    next: [],
    part: { which: 'first', gate: { kind: 'cut', after: half } },
  },
  { name: 'between parts (16 stored, none in flight)', pass: 16, next: [] },
  { name: 'mid-upload: a part stored whose answer was lost', pass: 4, next: [{ kind: 'holdAnswer' }] },
  {
    name: 'mid-upload: 4 parts cut at 1 B, 50%, 90%, all but 1 B',
    pass: 8,
    next: [
      { kind: 'cut', after: 1 },
      { kind: 'cut', after: half },
      { kind: 'cut', after: Math.round(7.2 * MiB) },
      { kind: 'cut', after: 8 * MiB - 1 },
    ],
  },
  {
    name: 'mid-upload: 4 parts sent headers only',
    pass: 8,
    next: [0, 0, 0, 0].map((after) => ({ kind: 'cut', after }) as const),
  },
  {
    name: 'mid-upload: 2 answers lost, 2 parts cut at 50%',
    pass: 16,
    next: [
      { kind: 'holdAnswer' },
      { kind: 'holdAnswer' },
      { kind: 'cut', after: half },
      { kind: 'cut', after: half },
    ],
  },
  { name: 'between parts (~75% stored)', pass: 36, next: [] },
  {
    name: 'during the last part (all others stored)',
    pass: 0,
    next: [],
    part: { which: 'last', gate: { kind: 'cut', after: 64 * 1024 } },
  },
  { name: 'during completion, before the store completed', pass: 0, next: [], complete: 'hold' },
  { name: 'during completion, after the store completed', pass: 0, next: [], complete: 'holdAnswer' },
];

describe('cp FILE s3://... killed (SIGKILL) and run again', () => {
  it('client-side: resumes after a kill at each of 10 points, byte-identical', {
    timeout: 900_000,
  }, async () => {
    await chain('client-side', ['--key-file', keyFile()], ['--key-file', keyFile()], TEN_POINTS, [
      rawKey,
      sseCKey,
    ]);
  });

  it('SSE-C: resumes after a kill at each of the 10 points, byte-identical', {
    timeout: 900_000,
  }, async () => {
    await chain('sse-c', ['--sse-c-file', sseCFile()], ['--sse-c-file', sseCFile()], TEN_POINTS, [
      rawKey,
      sseCKey,
    ]);
  });

  it('client-side + SSE-C: resumes after a kill at each of the 10 points, byte-identical', {
    timeout: 900_000,
  }, async () => {
    const both = ['--key-file', keyFile(), '--sse-c-file', sseCFile()];
    await chain('both', both, both, TEN_POINTS, [rawKey, sseCKey]);
  });
});

afterAll(() => {
  if (rows.length === 0) return;
  const lines = [
    '',
    'bytes sent again on resume, per kill point (part size 8 MiB, 4 parts in flight):',
    `${'mode'.padEnd(12)} ${'kill point'.padEnd(56)} ${'journaled'.padStart(9)} ${'cut in flight'.padStart(14)} ${'re-sent'.padStart(12)}  next run said`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.mode.padEnd(12)} ${r.point.padEnd(56)} ${String(r.journaled).padStart(9)} ${mib(r.cutBytes).padStart(14)} ${`${mib(r.resentBytes)} (${r.resentParts}p)`.padStart(12)}  ${r.skipped}`,
    );
  }
  console.log(lines.join('\n'));
});

function mib(n: number): string {
  return `${(n / MiB).toFixed(2)} MiB`;
}
