/**
 * A closed stdin or stdout (`sealstream encrypt <&-`, `sealstream decrypt f >&-`) is refused, not
 * read as an empty input or written as a sink that drops everything: encrypting a closed stdin
 * would seal an empty object and report success, and decrypting to a closed stdout would report
 * the plaintext as delivered when it went nowhere.
 *
 * Node never lets the program see the closed descriptor: at start-up it opens `/dev/null` in its
 * place (read-write, `O_RDWR`). So a descriptor 0 or 1 that is `/dev/null` opened read-write is
 * taken for a closed one. A shell's redirections open `/dev/null` read-only (`< /dev/null`) or
 * write-only (`> /dev/null`), and Node's own `stdio: 'ignore'` opens stdin read-only, so those go
 * through; a parent that opens it read-write on purpose (Python's `subprocess.DEVNULL`, Node's
 * `'ignore'` for stdout) is refused too, and told to say what it means: an empty input as a file
 * argument (`encrypt /dev/null`), a discarded output as `-o /dev/null`. Linux only (`/proc`); on
 * other systems nothing is refused.
 * @module
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { CliError, EXIT } from './exit.ts';

/** `O_ACCMODE` and `O_RDWR` of Linux, as `/proc/self/fdinfo` shows them (octal `flags:`). */
const O_ACCMODE = 0o3;
const O_RDWR = 0o2;

/**
 * True when descriptor `fd` stands for a closed one: `/dev/null` opened read-write, as Node puts
 * in place of a descriptor that was closed when it started. False when it cannot be told.
 */
export function standsForClosed(fd: 0 | 1 | 2): boolean {
  try {
    if (readlinkSync(`/proc/self/fd/${fd}`) !== '/dev/null') return false;
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & O_ACCMODE) === O_RDWR;
  } catch {
    return false;
  }
}

/**
 * Refuses to read input from a closed stdin.
 * @throws {CliError} exit 1 when stdin is closed.
 */
export function refuseClosedStdin(): void {
  if (!standsForClosed(0)) return;
  throw new CliError(
    EXIT.ERROR,
    'stdin is closed (bad file descriptor): there is no input to read, and it is not taken for an empty one',
    {
      hint: 'give the input as a file or a pipe; to use an empty input on purpose, give /dev/null as the input file, or redirect < /dev/null',
    },
  );
}

/** The standard descriptor a path names (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/2`), if any. */
function standardDescriptorOf(path: string): 1 | 2 | undefined {
  if (path === '/dev/stdout') return 1;
  if (path === '/dev/stderr') return 2;
  const fd = /^\/(?:dev\/fd|proc\/self\/fd)\/([12])$/.exec(path)?.[1];
  return fd === undefined ? undefined : (Number(fd) as 1 | 2);
}

/**
 * Refuses to write output to a closed stdout, or through a path that names a closed standard
 * descriptor (`-o /dev/stdout` with stdout closed).
 * @param path - The `-o` path, when the output is one.
 * @throws {CliError} exit 7 when the descriptor is closed.
 */
export function refuseClosedStdout(path?: string): void {
  const fd = path === undefined ? 1 : standardDescriptorOf(path);
  if (fd === undefined || !standsForClosed(fd)) return;
  throw new CliError(
    EXIT.OUTPUT,
    `${fd === 1 ? 'stdout' : 'stderr'} is closed (bad file descriptor): the output would go nowhere; nothing was written`,
    {
      hint: 'redirect stdout to a file or a pipe, or give -o FILE; to discard the output on purpose, give -o /dev/null',
    },
  );
}
