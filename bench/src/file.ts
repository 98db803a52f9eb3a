// The file pipeline: a file through an fs read stream (1 MiB reads) -> encrypt -> fs write stream,
// against the same pipeline without the encryption. This is what a user of the Node adapter sees.
//
// The peers (peers.ts) run on the same file in the same rounds, so this module also runs theirs:
// a `Codec` is anything that can encrypt and decrypt a file to a file.

import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Context, formatBytes, MiB } from './context.ts';
import { type CoreApi, nodeDecrypt, nodeEncrypt } from './core-api.ts';
import { sha256File, writeRandomFile } from './data.ts';
import { type FamilyName, type FamilyResult, figure, log, type Op, runRounds } from './runner.ts';

export const READ_SIZE = MiB;

/** The timed runs write here: the figures measure the pipeline, not the disk. */
const SINK = '/dev/null';

export interface Codec {
  family: FamilyName;
  /** Short name, used for scratch files and messages. */
  id: string;
  encryptFigure: string;
  decryptFigure: string;
  encrypt(src: string, dst: string): Promise<void>;
  decrypt(src: string, dst: string): Promise<void>;
  note: string;
}

/** sealstream's own codec: the core's web streams adapted to Node streams, the automatic backend. */
export function sealstreamCodec(core: CoreApi): Codec {
  const key = core.generateKey();
  const open = (path: string) => createReadStream(path, { highWaterMark: READ_SIZE });
  return {
    family: 'file',
    id: 'sealstream',
    encryptFigure: 'file_pipeline_encrypt',
    decryptFigure: 'file_pipeline_decrypt',
    encrypt: (src, dst) => pipeline(open(src), nodeEncrypt(core, key, undefined), createWriteStream(dst)),
    decrypt: (src, dst) => pipeline(open(src), nodeDecrypt(core, key, undefined), createWriteStream(dst)),
    note: `fs read stream (1 MiB) -> Duplex.fromWeb(encryptStream) -> fs write stream, ${core.resolveBackend().name} backend (automatic)`,
  };
}

function copy(src: string, dst: string): Promise<void> {
  return pipeline(createReadStream(src, { highWaterMark: READ_SIZE }), createWriteStream(dst));
}

/**
 * Writes the input file, checks each codec round-trips it (encrypt, decrypt, compare hashes; this
 * also warms them up), then times copy, and each codec's encryption and decryption, in rounds.
 * A codec that fails its check is skipped with the error; the others go on.
 */
export async function runFilePipelines(
  ctx: Context,
  codecs: Codec[],
  withCopy: boolean,
): Promise<FamilyResult> {
  const size = ctx.sizes.file;
  const input = join(ctx.tmp, 'input.bin');
  log(`  writing a ${formatBytes(size)} random file`);
  await writeRandomFile(input, size);
  const inputHash = await sha256File(input);

  const result: FamilyResult = { figures: [], skips: [] };
  const ops: Op[] = [];
  const notes = new Map<string, string>();
  const families = new Map<string, FamilyName>();
  if (withCopy) {
    ops.push({ figure: 'file_pipeline_copy', bytes: size, run: () => copy(input, SINK) });
    notes.set('file_pipeline_copy', 'fs read stream (1 MiB) -> fs write stream');
    families.set('file_pipeline_copy', 'file');
  }
  const scratch: string[] = [];
  for (const codec of codecs) {
    const encrypted = join(ctx.tmp, `${codec.id}.enc`);
    const decrypted = join(ctx.tmp, `${codec.id}.dec`);
    scratch.push(encrypted);
    try {
      log(`  ${codec.id}: round trip of the ${formatBytes(size)} file, untimed`);
      await codec.encrypt(input, encrypted);
      await codec.decrypt(encrypted, decrypted);
      const hash = await sha256File(decrypted);
      if (hash !== inputHash)
        throw new Error(`decrypt(encrypt(file)) differs from the file (sha256 ${hash})`);
    } catch (err) {
      result.skips.push({
        family: codec.family,
        what: `${codec.encryptFigure}, ${codec.decryptFigure}`,
        reason: `round-trip check failed: ${(err as Error).message}`,
        failed: true,
      });
      continue;
    } finally {
      rmSync(decrypted, { force: true });
    }
    ops.push({ figure: codec.encryptFigure, bytes: size, run: () => codec.encrypt(input, SINK) });
    ops.push({ figure: codec.decryptFigure, bytes: size, run: () => codec.decrypt(encrypted, SINK) });
    for (const name of [codec.encryptFigure, codec.decryptFigure]) {
      notes.set(name, codec.note);
      families.set(name, codec.family);
    }
  }

  const samples = await runRounds(ops, ctx.fileRuns, (round, results) => {
    const line = [...results].map(([name, v]) => `${name} ${v.toFixed(0)}`).join(', ');
    log(`  round ${round + 1}/${ctx.fileRuns}: ${line} MB/s`);
  });
  for (const op of ops) {
    result.figures.push(
      figure(op.figure, families.get(op.figure)!, 'MB/s', samples.get(op.figure)!, {
        bytes: size,
        group: 'file',
        note: notes.get(op.figure)!,
      }),
    );
  }
  for (const path of [input, ...scratch]) rmSync(path, { force: true });
  return result;
}
