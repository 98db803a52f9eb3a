/**
 * `sealstream cat` (an object's plaintext, or a byte range of it, to stdout) and
 * `sealstream inspect` (what can be known of a file or an object without its key).
 * @module
 */
import { createReadStream } from 'node:fs';
import { Duplex } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  type ByteSource,
  decryptStream,
  inspectSealed,
  openSealed,
  type SealedFacts,
} from '@sealstream/core';
import {
  getObject,
  headObject,
  isSosError,
  openObjectSource,
  parseRange,
  resolveRange,
} from '@sealstream/sos';
import { outputHolds } from '../delivered.ts';
import { encryptionFor, type SseCFlags, storeEncryption } from '../encryption.ts';
import { CliError, EXIT, inContext } from '../exit.ts';
import { FileSource } from '../file-source.ts';
import {
  counting,
  fromWeb,
  interrupted,
  openInput,
  openInputFile,
  statInput,
  writeOutput,
  writeOutputLoop,
} from '../io.ts';
import type { KeyFlags } from '../keys.ts';
import { formatLocation, parseLocation, type RemoteLocation } from '../location.ts';
import type { Reporter } from '../report.ts';
import { refuseOutputIsInput } from '../same-file.ts';
import { openLoop } from '../sealing.ts';
import { warnIfSealed } from '../still-sealed.ts';
import { clientFor, type StoreFlags } from '../store.ts';

/** Flags of `cat`. */
export interface CatFlags extends KeyFlags, SseCFlags, StoreFlags {
  range?: string;
  bind?: boolean;
  identity?: string;
}

/** Runs `cat`. */
export async function catCommand(target: string, flags: CatFlags, reporter: Reporter): Promise<void> {
  const at = parseLocation(target, 'object');
  // --range is HTTP text (the last byte inclusive); from here on it is [start, end) like everywhere
  const range = flags.range === undefined ? undefined : parseRange(flags.range);
  const rangeText = flags.range;
  if (at.kind !== 'remote') refuseOutputIsInput(at, { kind: 'stdio' });
  const settings = await storeEncryption(flags, reporter, 'open');
  reporter.dataOnStdout = true;
  outputHolds(settings.keys === undefined ? 'data' : 'authenticated plaintext');
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
      await writeOutput({ kind: 'stdio' }, [
        fromWeb(got.body),
        counting(progress),
        ...(settings.keys === undefined ? [warnIfSealed(formatLocation(at), reporter)] : []),
      ]);
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
          // createReadStream's `end` is inclusive
          createReadStream(at.path, { start: r.start, end: r.end - 1 }),
          counting(progress),
        ]);
        return;
      }
      const input = await openInput(at);
      await writeOutput({ kind: 'stdio' }, [
        input.stream,
        counting(progress),
        warnIfSealed(formatLocation(at), reporter),
      ]);
      return;
    }
    const file = range === undefined ? await openInputFile(at) : undefined;
    if (file !== undefined) {
      // a whole local file: the read/open/write loop over reused buffers
      progress.setTotal(file.size);
      const options = { keys, maxWorkFactor, ...(identity !== undefined ? { identity } : {}) };
      const counts = { read: (n: number) => progress.add(n), wrote: () => {} };
      try {
        await writeOutputLoop({ kind: 'stdio' }, (write) =>
          openLoop(file.read, write, options, () => {}, counts, interrupted),
        );
      } finally {
        await file.close();
      }
      return;
    }
    if (at.kind === 'stdio' || range === undefined) {
      const input = await openInput(at);
      if (input.size !== undefined) progress.setTotal(input.size);
      const opener = decryptStream({ keys, maxWorkFactor, ...(identity !== undefined ? { identity } : {}) });
      await writeOutput({ kind: 'stdio' }, [input.stream, counting(progress), Duplex.fromWeb(opener)]);
      return;
    }
    // a range of a local file: core's reader fetches just the chunks that hold it
    const source = await FileSource.open(at.path);
    try {
      const sealed = await openSealed(source, {
        keys,
        maxWorkFactor,
        ...(identity !== undefined ? { identity } : {}),
      });
      const r = resolveRange(range, sealed.size);
      progress.setTotal(r.end - r.start);
      await writeOutput({ kind: 'stdio' }, [
        fromWeb(sealed.stream(r, { signal: interrupted })),
        counting(progress),
      ]);
    } finally {
      await source.close();
    }
  } finally {
    progress.stop();
  }
}

/** Flags of `inspect`. */
export interface InspectFlags extends SseCFlags, StoreFlags {}

/** Runs `inspect`. */
export async function inspectCommand(target: string, flags: InspectFlags, reporter: Reporter): Promise<void> {
  const at = parseLocation(target, 'target');
  if (at.kind === 'stdio') throw new CliError(EXIT.USAGE, 'inspect needs a file or an object, not stdin');
  const facts: Record<string, unknown> = { command: 'inspect', target: formatLocation(at) };
  let stored: number;
  let sealed: SealedFacts | undefined;
  if (at.kind === 'local') {
    const source = await FileSource.open(at.path);
    try {
      stored = source.size;
      sealed = await inspectSealed(source);
    } finally {
      await source.close();
    }
  } else {
    const remote = await inContext(formatLocation(at), () => readRemoteHead(at, flags, reporter));
    Object.assign(facts, remote.facts);
    if (remote.source === undefined) {
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
    stored = remote.source.size;
    const source = remote.source;
    sealed = await inContext(formatLocation(at), () => inspectSealed(source, { signal: interrupted }));
  }
  facts.size = stored;
  const lines = [formatLocation(at), `  stored      ${stored} bytes`];
  if (facts.sseC !== undefined) {
    const s = facts.sseC as { required: boolean; keyMD5?: string };
    lines.push(`  SSE-C       ${s.required ? `yes (key MD5 ${s.keyMD5})` : 'no'}`);
  }
  if (sealed === undefined) {
    facts.sealstream = false;
    lines.push('  format      not a sealstream object (no "sealstream" magic)');
    reporter.answer(facts, lines.join('\n'));
    return;
  }
  const info = sealed.header;
  const plain = sealed.size;
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

/**
 * Opens an object's stored bytes as a source: without a key for SSE-C objects, only that it is one,
 * and its size.
 */
async function readRemoteHead(
  at: RemoteLocation,
  flags: InspectFlags,
  reporter: Reporter,
): Promise<{ source: ByteSource | undefined; size: number | undefined; facts: Record<string, unknown> }> {
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
    return { source: undefined, size: entry?.Size, facts };
  }
  // an empty object has no bytes to fetch (a ranged GET of it is not satisfiable)
  if (size === 0) return { source: { size: 0, read: async () => new Uint8Array(0) }, size, facts };
  const source = await openObjectSource({
    client,
    bucket: at.bucket,
    key: at.key,
    encryption,
    signal: interrupted,
  });
  return { source, size, facts };
}
