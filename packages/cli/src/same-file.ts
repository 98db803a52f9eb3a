/**
 * An output that is the input file itself is refused before a byte moves: `encrypt -o f f` replaced
 * the plaintext with its encryption (the rename of a finished output lands on the input), and
 * `cat f >> f` or `decrypt -o /dev/stdout f >> f` appended to the file being read, which with
 * `cat` grew it until the disk was full. The same file is told by device and inode, so a symbolic
 * or hard link to the input, `/dev/stdout` and the shell's redirections are caught as well.
 * @module
 */
import { fstatSync, type Stats, statSync } from 'node:fs';
import { usage } from './exit.ts';

/** A local input or output: a path, or stdin/stdout. */
type End = { kind: 'stdio' } | { kind: 'local'; path: string };

/** The regular file an end names, if it is one that exists. */
function regularFile(end: End, fd: 0 | 1): Stats | undefined {
  try {
    const info = end.kind === 'stdio' ? fstatSync(fd) : statSync(end.path);
    return info.isFile() ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuses an output that is the input file.
 * @throws {CliError} usage error (exit 2) when `output` names the same regular file as `input`.
 */
export function refuseOutputIsInput(input: End, output: End): void {
  const read = regularFile(input, 0);
  const written = read && regularFile(output, 1);
  if (read === undefined || written === undefined) return;
  if (read.dev !== written.dev || read.ino !== written.ino) return;
  const name = (end: End, std: string) => (end.kind === 'stdio' ? std : end.path);
  throw usage(
    `the output ${name(output, 'stdout')} is the input file ${name(input, 'stdin')}: it would be written over or added to while it is read`,
    'write to another file, then move it over the input once the run succeeded',
  );
}
