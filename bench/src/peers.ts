// Peers: other streaming encryption tools on the same file, in the same rounds, each with its default
// settings. They answer "is this fast for what it does?" better than any absolute number.
//
//   aws_esdk  AWS Encryption SDK for JavaScript, raw AES keyring, encryptStream/decryptStream. Its
//             default suite signs with ECDSA P-384 and frames 4 KiB at a time.
//   age_js    age-encryption (typage) streaming API, X25519 recipient, ChaCha20-Poly1305 in JavaScript.
//   age_go    the `age` command from Debian's packages, same X25519 identity.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { promisify } from 'node:util';
import type { Context } from './context.ts';
import { type Codec, READ_SIZE } from './file.ts';
import { commandVersion } from './machine.ts';
import { log, type Skip } from './runner.ts';

const execFileAsync = promisify(execFile);

export const PEERS = ['aws_esdk', 'age_js', 'age_go'] as const;
export type Peer = (typeof PEERS)[number];

function open(path: string) {
  return createReadStream(path, { highWaterMark: READ_SIZE });
}

function peerCodec(peer: Peer, note: string, encrypt: Codec['encrypt'], decrypt: Codec['decrypt']): Codec {
  return {
    family: 'peers',
    id: peer,
    encryptFigure: `peer_${peer}_encrypt`,
    decryptFigure: `peer_${peer}_decrypt`,
    encrypt,
    decrypt,
    note,
  };
}

async function awsEsdk(): Promise<Codec> {
  const aws = await import('@aws-crypto/client-node');
  const { encryptStream, decryptStream } = aws.buildClient(
    aws.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  );
  const keyring = new aws.RawAesKeyringNode({
    keyNamespace: 'sealstream-bench',
    keyName: 'bench-key',
    unencryptedMasterKey: new Uint8Array(randomBytes(32)),
    wrappingSuite: aws.RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  return peerCodec(
    'aws_esdk',
    '@aws-crypto/client-node encryptStream/decryptStream, RawAesKeyringNode, default suite and frame',
    (src, dst) => pipeline(open(src), encryptStream(keyring), createWriteStream(dst)),
    (src, dst) => pipeline(open(src), decryptStream(keyring), createWriteStream(dst)),
  );
}

type AgeModule = typeof import('age-encryption');

function webStream(path: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(open(path)) as unknown as ReadableStream<Uint8Array>;
}

async function toFile(stream: ReadableStream<Uint8Array>, dst: string): Promise<void> {
  await pipeline(
    Readable.fromWeb(stream as unknown as NodeReadableStream<Uint8Array>),
    createWriteStream(dst),
  );
}

function ageJs(age: AgeModule, identity: string, recipient: string): Codec {
  return peerCodec(
    'age_js',
    'age-encryption Encrypter/Decrypter on web streams, X25519 recipient',
    async (src, dst) => {
      const encrypter = new age.Encrypter();
      encrypter.addRecipient(recipient);
      await toFile(await encrypter.encrypt(webStream(src)), dst);
    },
    async (src, dst) => {
      const decrypter = new age.Decrypter();
      decrypter.addIdentity(identity);
      await toFile(await decrypter.decrypt(webStream(src)), dst);
    },
  );
}

/** Installs Debian's `age` when it is missing and we are root; says why not otherwise. */
async function ensureAgeCommand(): Promise<string | null> {
  if (commandVersion('age', ['--version']) !== null) return null;
  if (process.getuid?.() !== 0) return 'the `age` command is missing and installing it needs root';
  const install = () =>
    execFileAsync('apt-get', ['install', '-y', '-qq', 'age'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 180_000,
    });
  log('  installing the `age` command with apt-get');
  try {
    await install();
  } catch {
    try {
      await execFileAsync('apt-get', ['update', '-qq'], { timeout: 180_000 });
      await install();
    } catch (err) {
      return `the \`age\` command is missing and apt-get could not install it: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  return commandVersion('age', ['--version']) === null
    ? 'apt-get installed age, but `age` is not on PATH'
    : null;
}

function ageGo(identityFile: string, recipient: string): Codec {
  return peerCodec(
    'age_go',
    'the `age` command (Debian package), X25519 recipient, file to file',
    async (src, dst) => {
      await execFileAsync('age', ['-r', recipient, '-o', dst, src]);
    },
    async (src, dst) => {
      await execFileAsync('age', ['-d', '-i', identityFile, '-o', dst, src]);
    },
  );
}

/** The peers that can run here, and a skip for each that cannot. */
export async function peerCodecs(ctx: Context): Promise<{ codecs: Codec[]; skips: Skip[] }> {
  const codecs: Codec[] = [];
  const skips: Skip[] = [];
  const skip = (peer: Peer, reason: string) =>
    skips.push({ family: 'peers', what: `peer_${peer}_*`, reason });

  try {
    codecs.push(await awsEsdk());
  } catch (err) {
    skip('aws_esdk', `@aws-crypto/client-node could not be loaded: ${(err as Error).message}`);
  }

  let age: AgeModule | undefined;
  let identity = '';
  let recipient = '';
  try {
    age = await import('age-encryption');
    identity = await age.generateX25519Identity();
    recipient = await age.identityToRecipient(identity);
    codecs.push(ageJs(age, identity, recipient));
  } catch (err) {
    skip('age_js', `age-encryption could not be loaded: ${(err as Error).message}`);
  }

  const missing = await ensureAgeCommand();
  if (missing !== null) skip('age_go', missing);
  else if (age === undefined) skip('age_go', 'needs age-encryption to make its X25519 identity');
  else {
    const identityFile = join(ctx.tmp, 'age-identity.txt');
    writeFileSync(identityFile, `${identity}\n`, { mode: 0o600 });
    codecs.push(ageGo(identityFile, recipient));
  }
  return { codecs, skips };
}
