/**
 * The TypeScript samples of the READMEs, type-checked against the packages as a user's project
 * would see them: each ```ts block is one module of its own, and the names a sample uses without
 * defining them (a `client`, a `key`, the `file` a page picked) come from `SAMPLE_GLOBALS`.
 * Used by readme-samples.test.ts (against the workspace) and runnable by hand against an installed
 * project: `node --import tsx examples/test/readme-samples.ts /path/to/project` prints every error.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '../..');

/** The READMEs a user reads, relative to the repository. */
export const README_FILES = [
  'README.md',
  'packages/core/README.md',
  'packages/sos/README.md',
  'packages/cli/README.md',
  'packages/native/README.md',
  'examples/README.md',
];

export interface Sample {
  /** `packages/sos/README.md:123`: the line of the opening fence. */
  where: string;
  code: string;
}

/** Every ```ts block of the READMEs. */
export function readmeSamples(): Sample[] {
  const samples: Sample[] = [];
  for (const readme of README_FILES) {
    const lines = readFileSync(join(root, readme), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript)\s*$/.test(lines[i] ?? '')) continue;
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? '').startsWith('```'); i++) body.push(lines[i] ?? '');
      samples.push({ where: `${readme}:${start + 1}`, code: body.join('\n') });
    }
  }
  return samples;
}

/**
 * What the samples take as given: declared once, globally, so a sample that defines one of these
 * names itself shadows it. Types are the packages' own, so a sample that passes one to the wrong
 * option still fails.
 */
export const SAMPLE_GLOBALS = `
type Core = typeof import('@sealstream/core');
type Sos = typeof import('@sealstream/sos');
declare const file: File;
declare const oldKey: Uint8Array;
declare const newKey: Uint8Array;
declare const otherKey: Uint8Array;
declare const rawKey: Uint8Array;
declare const passphrase: string;
declare const bytes: Uint8Array;
declare const prefix: Uint8Array;
declare const objectSize: number;
declare function fetchRange(start: number, end: number): Promise<Uint8Array>;
declare const client: ReturnType<Sos['createSosClient']>;
declare const bucket: string;
declare const body: Uint8Array;
declare const source: import('@sealstream/core').ByteSource & ReadableStream<Uint8Array>;
declare const destination: WritableStream<Uint8Array>;
declare const sink: { write(chunk: Uint8Array): Promise<void> };
declare const signal: AbortSignal;
declare const bar: { value: number };
declare const uploadId: string;
declare const partNumber: number;
declare const contentLength: number;
declare function scopedCredentials(): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
declare function urlFromServer(name: string): Promise<string>;
declare function notFound(): void;
declare function readFile(path: string, encoding: 'utf8'): Promise<string>;
declare function pipeline(...streams: unknown[]): Promise<void>;
declare const Readable: typeof import('node:stream').Readable;
declare const createWriteStream: typeof import('node:fs').createWriteStream;
declare const encryptStream: Core['encryptStream'];
declare const SEALED_CHUNK_SIZE: Core['SEALED_CHUNK_SIZE'];
declare const rekeyObject: Sos['rekeyObject'];
declare const putObject: Sos['putObject'];
declare const getObject: Sos['getObject'];
declare const headObject: Sos['headObject'];
declare const createSosClient: Sos['createSosClient'];
declare const isSosError: Sos['isSosError'];
declare const isSealstreamError: Core['isSealstreamError'];
declare const create: import('@sealstream/sos/presigned').Presigner['create'];
declare const partUrl: import('@sealstream/sos/presigned').Presigner['partUrl'];
declare const complete: import('@sealstream/sos/presigned').Presigner['complete'];
declare const abort: import('@sealstream/sos/presigned').Presigner['abort'];
`;

/**
 * `key`: a key to seal with, except in the transport's README, where it is what S3 calls a key
 * (the object's name) and the key to seal with is `myKey`.
 */
const README_GLOBALS: Record<string, string> = {
  'packages/sos/README.md':
    "declare const key: string;\ndeclare const myKey: Uint8Array;\ndeclare const encryption: import('@sealstream/sos').Encryption;\n",
};
const DEFAULT_README_GLOBALS = 'declare const key: Uint8Array;\n';

export interface SampleError {
  where: string;
  message: string;
}

/**
 * Type-checks every sample as a module of a Node.js project at `projectDir`, whose node_modules
 * holds the packages; `conditions` are the export conditions to resolve with (the workspace's
 * sources need `sealstream-src`, installed tarballs none). Node's lib only, no DOM: with both,
 * @types/node's web streams and the DOM's do not fit each other (`Duplex.fromWeb` of any
 * `TransformStream` fails), whatever our types say; the browser samples need nothing of the DOM
 * that @types/node does not declare (`File`, `ReadableStream`).
 */
export function checkSamples(projectDir: string, conditions: string[] = []): SampleError[] {
  const samples = readmeSamples();
  const dir = join(projectDir, '.readme-samples');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: conditions,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(projectDir, 'node_modules/@types')],
  };
  const files = new Map<string, string>([[join(dir, 'package.json'), '{ "type": "module" }']]);
  const host = ts.createCompilerHost(options);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (path) => files.has(path) || fileExists(path);
  host.readFile = (path) => files.get(path) ?? readFile(path);
  host.getSourceFile = (path, language, onError, create) => {
    const text = files.get(path);
    return text === undefined
      ? getSourceFile(path, language, onError, create)
      : ts.createSourceFile(path, text, language, true);
  };
  const errors: SampleError[] = [];
  let previous: ts.Program | undefined;
  // One program per README, since `key` means another thing in one of them; each reuses the
  // previous one's declarations of the packages.
  for (const readme of README_FILES) {
    const mine = samples.filter((sample) => sample.where.startsWith(`${readme}:`));
    if (mine.length === 0) continue;
    const globals = join(dir, readme.replaceAll('/', '_'), 'globals.d.ts');
    files.set(globals, SAMPLE_GLOBALS + (README_GLOBALS[readme] ?? DEFAULT_README_GLOBALS));
    const names = mine.map((sample, i) => {
      const path = join(dir, readme.replaceAll('/', '_'), `sample-${i}.ts`);
      // `export {}` makes every sample a module, as a user's file with imports is.
      files.set(path, `${sample.code}\nexport {};\n`);
      return path;
    });
    const program = ts.createProgram([globals, ...names], options, host, previous);
    previous = program;
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      const sample = diagnostic.file ? mine[names.indexOf(diagnostic.file.fileName)] : undefined;
      if (!sample || !diagnostic.file || diagnostic.start === undefined) {
        errors.push({ where: diagnostic.file?.fileName ?? readme, message });
        continue;
      }
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      const fence = Number(sample.where.slice(readme.length + 1));
      errors.push({ where: `${readme}:${fence + 1 + line}`, message });
    }
  }
  return errors;
}

if (process.argv[1] === import.meta.filename) {
  const errors = checkSamples(resolve(process.argv[2] ?? root), process.argv.slice(3));
  for (const { where, message } of errors) console.log(`${where}: ${message}`);
  console.log(`${readmeSamples().length} samples, ${errors.length} errors`);
  process.exitCode = errors.length ? 1 : 0;
}
