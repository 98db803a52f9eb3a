/**
 * `sealstream cat` (an object's plaintext, or a byte range of it, to stdout) and
 * `sealstream inspect` (what can be known of a file or an object without its key).
 * @module
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Duplex, Readable } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  decryptStream,
  type HeaderInfo,
  inspectHeader,
  MAX_HEADER_LENGTH,
  openHeader,
  openPrefixLength,
  PAYLOAD_PREFIX_LENGTH,
  plaintextSize,
  readHeaderLength,
} from '@sealstream/core';
import { getObject, headObject, isSosError, parseRange, resolveRange } from '@sealstream/sos';
import { encryptionFor, type SseCFlags, storeEncryption } from '../encryption.ts';
import { CliError, EXIT, inContext } from '../exit.ts';
import { counting, fromWeb, interrupted, openInput, statInput, writeOutput } from '../io.ts';
import type { KeyFlags } from '../keys.ts';
import { formatLocation, parseLocation, type RemoteLocation } from '../location.ts';
import type { Reporter } from '../report.ts';
import { clientFor, type StoreFlags } from '../store.ts';

/** Flags of `cat`. */
export interface CatFlags extends KeyFlags, SseCFlags, StoreFlags {
  range?: string;
  bind?: boolean;
  identity?: string;
}

/** Plaintext decrypted per read when serving a range of a local file. */
const WINDOW = 8 * 1024 * 1024;

/** Runs `cat`. */
export async function catCommand(target: string, flags: CatFlags, reporter: Reporter): Promise<void> {
  const at = parseLocation(target, 'object');
  const range = flags.range === undefined ? undefined : parseRange(flags.range);
  const rangeText = flags.range;
  const settings = await storeEncryption(flags, reporter, 'open');
  reporter.dataOnStdout = true;
  const progress = reporter.progress('cat', undefined);
  try {
    if (at.kind === 'remote') {
      const got = await inContext(formatLocation(at), () =>
        getObject({
          client: clientFor(at, flags),
          bucket: at.bucket,
          key: at.key,
          encryption: encryptionFor(settings, at, 'download'),
          signal: interrupted,
          ...(rangeText !== undefined ? { range: rangeText } : {}),
        }),
      );
      progress.setTotal(got.size);
      await writeOutput({ kind: 'stdio' }, [fromWeb(got.body), counting(progress)]);
      return;
    }
    if (at.kind === 'stdio' && range !== undefined)
      throw new CliError(EXIT.USAGE, '--range needs a file or an object, not stdin');
    const keys = settings.keys?.recipients;
    const identity = flags.identity;
    const maxWorkFactor = settings.keys?.maxWorkFactor;
    if (keys === undefined) {
      // no key: the bytes as they are
      if (at.kind === 'local' && range !== undefined) {
        const size = (await statInput(at.path)).size;
        const r = resolveRange(range, size);
        await writeOutput({ kind: 'stdio' }, [
          createReadStream(at.path, { start: r.start, end: r.end }),
          counting(progress),
        ]);
        return;
      }
      const input = await openInput(at);
      await writeOutput({ kind: 'stdio' }, [input.stream, counting(progress)]);
      return;
    }
    if (at.kind === 'stdio' || range === undefined) {
      const input = await openInput(at);
      if (input.size !== undefined) progress.setTotal(input.size);
      const opener = decryptStream({ keys, maxWorkFactor, ...(identity !== undefined ? { identity } : {}) });
      await writeOutput({ kind: 'stdio' }, [input.stream, counting(progress), Duplex.fromWeb(opener)]);
      return;
    }
    await statInput(at.path);
    const file = await open(at.path, 'r');
    try {
      const fileSize = (await file.stat()).size;
      const prefix = await readLocalPrefix(file, fileSize);
      const opened = await openHeader(prefix, {
        keys,
        maxWorkFactor,
        ...(identity !== undefined ? { identity } : {}),
      });
      const r = resolveRange(range, opened.plaintextSize(fileSize));
      progress.setTotal(r.end + 1 - r.start);
      async function* windows(): AsyncGenerator<Uint8Array> {
        for (let start = r.start; start <= r.end; ) {
          const end = Math.min(r.end + 1, (Math.floor(start / WINDOW) + 1) * WINDOW);
          const plan = opened.planRange({ start, end }, fileSize);
          const sealed = Buffer.alloc(plan.ciphertextEnd - plan.ciphertextStart);
          await file.read(sealed, 0, sealed.length, plan.ciphertextStart);
          yield await opened.decryptRange(plan, sealed);
          start = end;
        }
      }
      await writeOutput({ kind: 'stdio' }, [Readable.from(windows()), counting(progress)]);
    } finally {
      await file.close();
    }
  } finally {
    progress.stop();
  }
}

/** The header and payload prefix of a local sealed file. */
async function readLocalPrefix(
  file: Awaited<ReturnType<typeof open>>,
  fileSize: number,
): Promise<Uint8Array> {
  const first = Buffer.alloc(Math.min(fileSize, 64 * 1024));
  await file.read(first, 0, first.length, 0);
  const h = readHeaderLength(first);
  if (h === undefined) return first; // too short: openHeader reports the truncation
  const need = Math.min(openPrefixLength(h), fileSize);
  if (need <= first.length) return first;
  const all = Buffer.alloc(need);
  await file.read(all, 0, need, 0);
  return all;
}

/** Flags of `inspect`. */
export interface InspectFlags extends SseCFlags, StoreFlags {}

const MAGIC = Buffer.from('sealstream');

/** Runs `inspect`. */
export async function inspectCommand(target: string, flags: InspectFlags, reporter: Reporter): Promise<void> {
  const at = parseLocation(target, 'target');
  if (at.kind === 'stdio') throw new CliError(EXIT.USAGE, 'inspect needs a file or an object, not stdin');
  let stored: number;
  let head: Uint8Array;
  const facts: Record<string, unknown> = { command: 'inspect', target: formatLocation(at) };
  if (at.kind === 'local') {
    stored = (await statInput(at.path)).size;
    const file = await open(at.path, 'r');
    try {
      head = Buffer.alloc(Math.min(stored, MAX_HEADER_LENGTH + PAYLOAD_PREFIX_LENGTH));
      await file.read(head, 0, head.length, 0);
    } finally {
      await file.close();
    }
  } else {
    const remote = await inContext(formatLocation(at), () => readRemoteHead(at, flags, reporter));
    Object.assign(facts, remote.facts);
    if (remote.head === undefined) {
      facts.size = remote.size;
      facts.sealstream = null;
      reporter.answer(
        facts,
        [
          formatLocation(at),
          `  stored      ${remote.size ?? '?'} bytes`,
          '  SSE-C       yes: the object is encrypted by the store with a customer key',
          '  contents    unknown without the SSE-C key (give --sse-c-file to look inside)',
        ].join('\n'),
      );
      return;
    }
    stored = remote.size!;
    head = remote.head;
  }
  facts.size = stored;
  const lines = [formatLocation(at), `  stored      ${stored} bytes`];
  if (facts.sseC !== undefined) {
    const s = facts.sseC as { required: boolean; keyMD5?: string };
    lines.push(`  SSE-C       ${s.required ? `yes (key MD5 ${s.keyMD5})` : 'no'}`);
  }
  if (head.length < MAGIC.length || !MAGIC.equals(Buffer.from(head.subarray(0, MAGIC.length)))) {
    facts.sealstream = false;
    lines.push('  format      not a sealstream object (no "sealstream" magic)');
    reporter.answer(facts, lines.join('\n'));
    return;
  }
  const info: HeaderInfo = inspectHeader(head);
  const plain = plaintextSize(stored, info.headerLength);
  Object.assign(facts, {
    sealstream: true,
    version: info.version,
    suite: info.suite,
    chunkSize: info.chunkSize,
    headerLength: info.headerLength,
    plaintextSize: plain,
    overhead: stored - plain,
    identity: info.identity ?? null,
    recipients: info.recipients,
    keyIds: info.keyIds,
  });
  lines.push(
    `  format      sealstream v${info.version}, ${info.suite}, ${info.chunkSize}-byte chunks, ${info.headerLength}-byte header`,
    `  plaintext   ${plain} bytes (overhead ${stored - plain} bytes)`,
    `  recipients  ${info.recipients
      .map((r) =>
        r.type === 'key'
          ? `key ${r.keyId}`
          : r.type === 'passphrase'
            ? `passphrase (scrypt logN ${r.workFactor})`
            : r.type === 'unknown'
              ? `unknown type ${r.name}`
              : `${r.type} public key ${r.keyId}`,
      )
      .join(', ')}`,
    `  identity    ${info.identity === undefined ? 'none (not bound to a location)' : JSON.stringify(info.identity)}`,
  );
  reporter.answer(facts, lines.join('\n'));
}

/** Reads what can be read of an object's start: without a key for SSE-C objects, only that it is one, and its size. */
async function readRemoteHead(
  at: RemoteLocation,
  flags: InspectFlags,
  reporter: Reporter,
): Promise<{ head: Uint8Array | undefined; size: number | undefined; facts: Record<string, unknown> }> {
  const client = clientFor(at, flags);
  const settings = await storeEncryption(flags, reporter, 'open');
  // inspect looks without keys: a map that does not cover the object just gives none
  const key = settings.sseCKey ?? settings.sseCMap?.map.keyFor(at.alias, at.bucket, at.key);
  const encryption = key === undefined ? ('none' as const) : { sseC: { key } };
  const facts: Record<string, unknown> = {};
  let size: number;
  try {
    const out = await headObject({ client, bucket: at.bucket, key: at.key, encryption });
    size = out.size;
    facts.contentType = out.contentType ?? null;
    facts.lastModified = out.lastModified?.toISOString() ?? null;
    facts.sseC = out.sseC ? { required: true, keyMD5: out.sseC.keyMD5 } : { required: false };
  } catch (err) {
    if (!isSosError(err, 'SSE_C_KEY_REQUIRED')) throw err;
    // the object is stored with SSE-C: without its key, only the listing tells its size
    const list = await client.send(
      new ListObjectsV2Command({ Bucket: at.bucket, Prefix: at.key, MaxKeys: 1 }),
      {
        abortSignal: interrupted,
      },
    );
    const entry = list.Contents?.find((o) => o.Key === at.key);
    facts.sseC = { required: true };
    facts.lastModified = entry?.LastModified?.toISOString() ?? null;
    return { head: undefined, size: entry?.Size, facts };
  }
  if (size === 0) return { head: new Uint8Array(0), size, facts };
  const got = await getObject({
    client,
    bucket: at.bucket,
    key: at.key,
    encryption,
    range: `bytes=0-${MAX_HEADER_LENGTH + PAYLOAD_PREFIX_LENGTH - 1}`,
    signal: interrupted,
  });
  return { head: new Uint8Array(await new Response(got.body).arrayBuffer()), size, facts };
}
