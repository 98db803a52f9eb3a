/**
 * `sealstream encrypt` and `sealstream decrypt`: local files or stdin/stdout.
 * @module
 */
import { Duplex } from 'node:stream';
import { decryptStream, resolveBackend } from '@sealstream/core';
import { outputHolds } from '../delivered.ts';
import { usage } from '../exit.ts';
import {
  counting,
  type InputFile,
  interrupted,
  openInput,
  openInputFile,
  refuseBinaryToTerminal,
  writeOutput,
  writeOutputLoop,
} from '../io.ts';
import { describeRecipients, gatherKeys, type KeyFlags } from '../keys.ts';
import { formatLocation, type Location, parseLocation } from '../location.ts';
import { formatBytes, NO_PROGRESS, type Reporter } from '../report.ts';
import { refuseOutputIsInput } from '../same-file.ts';
import {
  type BlockOutput,
  LOOP_WRITE_BYTES,
  type LoopCounts,
  openLoop,
  sealingTransform,
  sealLoop,
  type WriteAll,
} from '../sealing.ts';

/** Flags of `encrypt` and `decrypt`. */
export interface LocalFlags extends KeyFlags {
  output?: string;
  identity?: string;
}

/** Parses a local input or output argument; `-` or nothing is stdin/stdout. */
function localArg(
  text: string | undefined,
  what: string,
): { kind: 'stdio' } | { kind: 'local'; path: string } {
  const l: Location = text === undefined ? { kind: 'stdio' } : parseLocation(text, what);
  if (l.kind === 'remote') {
    throw usage(
      `${what} ${formatLocation(l)} is in a store; encrypt and decrypt work on local files`,
      'use sealstream cp',
    );
  }
  return l;
}

/** Runs `encrypt`. */
export async function encryptCommand(
  input: string | undefined,
  flags: LocalFlags,
  reporter: Reporter,
): Promise<void> {
  const source = localArg(input, 'input');
  const output = localArg(flags.output, 'output');
  refuseOutputIsInput(source, output);
  refuseBinaryToTerminal(output, 'encrypted data');
  const keys = await gatherKeys(flags, reporter, 'seal');
  if (keys.recipients.length === 0) {
    throw usage(
      'encrypt needs at least one recipient',
      'give --key-file FILE, --passphrase or --passphrase-file FILE',
    );
  }
  const options = {
    recipients: keys.recipients,
    ...(flags.identity !== undefined ? { identity: flags.identity } : {}),
  };
  const file = await openInputFile(source);
  const opened = file ?? (await openInput(source));
  reporter.dataOnStdout = output.kind === 'stdio';
  outputHolds('encrypted data');
  const {
    bytesIn: plain,
    bytesOut: sealed,
    seconds,
  } = file
    ? await loopFile('encrypt', file, output, reporter, (write, counts, blocks) =>
        sealLoop(file.read, write, options, counts, interrupted, blocks),
      )
    : await transformFile('encrypt', opened as OpenedInput, output, reporter, (countIn) => [
        sealingTransform(options, countIn),
      ]);

  reporter.result(
    {
      command: 'encrypt',
      input: opened.name,
      output: formatLocation(output),
      plaintextSize: plain,
      size: sealed,
      keyIds: keys.keyIds,
      passphrases: keys.passphrases,
      identity: flags.identity ?? null,
      // the cipher backend that did the work (native when the addon loads; SEALSTREAM_NATIVE=0 turns it off)
      backend: resolveBackend().name,
      seconds,
    },
    `encrypted ${opened.name} -> ${formatLocation(output)}: ${formatBytes(plain)} sealed to ${describeRecipients(keys)}`,
  );
}

/** Runs `decrypt`. */
export async function decryptCommand(
  input: string | undefined,
  flags: LocalFlags,
  reporter: Reporter,
): Promise<void> {
  const source = localArg(input, 'input');
  const output = localArg(flags.output, 'output');
  refuseOutputIsInput(source, output);
  const keys = await gatherKeys(flags, reporter, 'open');
  if (keys.recipients.length === 0) {
    throw usage(
      'decrypt needs a key',
      'give --key-file FILE (several allowed), --passphrase or --passphrase-file FILE',
    );
  }
  const file = await openInputFile(source);
  const opened = file ?? (await openInput(source));
  reporter.dataOnStdout = output.kind === 'stdio';
  // each chunk is released only once it authenticated: what went out is true, but not all of it
  outputHolds('authenticated plaintext');
  let matched: { keyId: string | undefined } | undefined;
  const onOpen = (keyId: string | undefined) => {
    matched = { keyId };
    reporter.info(keyId ? `opened with key ID ${keyId}` : 'opened with a passphrase');
  };
  const options = {
    keys: keys.recipients,
    maxWorkFactor: keys.maxWorkFactor,
    ...(flags.identity !== undefined ? { identity: flags.identity } : {}),
  };
  const { bytesOut: plain, seconds } = file
    ? await loopFile('decrypt', file, output, reporter, (write, counts, blocks) =>
        openLoop(file.read, write, options, onOpen, counts, interrupted, blocks),
      )
    : await transformFile('decrypt', opened as OpenedInput, output, reporter, (countIn) => [
        counting(NO_PROGRESS, countIn),
        Duplex.fromWeb(decryptStream({ ...options, onOpen: ({ keyId }) => onOpen(keyId) })),
      ]);

  reporter.result(
    {
      command: 'decrypt',
      input: opened.name,
      output: formatLocation(output),
      plaintextSize: plain,
      keyId: matched?.keyId ?? null,
      passphrase: matched !== undefined && matched.keyId === undefined,
      backend: resolveBackend().name,
      seconds,
    },
    `decrypted ${opened.name} -> ${formatLocation(output)}: ${formatBytes(plain)}, authenticated`,
  );
}

type OpenedInput = Awaited<ReturnType<typeof openInput>>;

/**
 * Runs a read-process-write loop from a regular file into the output, with progress on the input
 * side; counts the bytes on both sides and times the run. The file is closed whatever happens.
 */
async function loopFile(
  label: string,
  file: InputFile,
  output: Parameters<typeof writeOutput>[0],
  reporter: Reporter,
  loop: (write: WriteAll, counts: LoopCounts, blocks?: BlockOutput) => Promise<void>,
): Promise<{ bytesIn: number; bytesOut: number; seconds: number }> {
  const progress = reporter.progress(label, file.size);
  let bytesIn = 0;
  let bytesOut = 0;
  const counts: LoopCounts = {
    read: (n) => {
      bytesIn += n;
      progress.add(n);
    },
    wrote: (n) => {
      bytesOut += n;
    },
  };
  const started = performance.now();
  try {
    await writeOutputLoop(output, (write, blocks) => loop(write, counts, blocks), {
      bytes: file.size,
      block: LOOP_WRITE_BYTES,
    });
  } finally {
    progress.stop();
    await file.close();
  }
  return { bytesIn, bytesOut, seconds: (performance.now() - started) / 1000 };
}

/**
 * Pipes an opened input through the stages `middle` makes into the output, with progress on the
 * input side (the stages call `countIn` with the bytes they take in); counts the bytes on both sides
 * and times the run.
 */
async function transformFile(
  label: string,
  opened: OpenedInput,
  output: Parameters<typeof writeOutput>[0],
  reporter: Reporter,
  middle: (countIn: (bytes: number) => void) => Duplex[],
): Promise<{ bytesIn: number; bytesOut: number; seconds: number }> {
  const progress = reporter.progress(label, opened.size);
  let bytesIn = 0;
  let bytesOut = 0;
  const started = performance.now();
  try {
    await writeOutput(output, [
      opened.stream,
      ...middle((n) => {
        bytesIn += n;
        progress.add(n);
      }),
      counting(NO_PROGRESS, (n) => (bytesOut += n)),
    ]);
  } finally {
    progress.stop();
  }
  return { bytesIn, bytesOut, seconds: (performance.now() - started) / 1000 };
}
