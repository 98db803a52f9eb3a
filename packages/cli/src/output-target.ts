/**
 * What an output path names, decided before a byte is written: a regular file (new or existing)
 * is written under a temporary name and renamed into place (`pending.ts`); anything else that
 * exists there is not a file to replace.
 *
 * A rename over `-o /dev/null` or `-o fifo` would replace the device or the FIFO with a regular
 * file (as root, the system's `/dev/null` itself), so an existing device, FIFO or socket is written
 * directly, as stdout is (`special-output.ts`). A symbolic link is followed, as `cp` and the
 * shell's `>` follow it: the output lands where the link points and the link stays, instead of
 * being replaced by a file in the link's folder. A folder is a usage error.
 *
 * Only links and special files of this user (or of root, as `/dev/null` is) are written through:
 * one that another user planted where an output goes (in a shared folder such as /tmp) would
 * otherwise receive the plaintext, or redirect it to a file of the attacker's choice, which the
 * temporary file and its rename exist to prevent. Those are refused.
 * @module
 */
import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { usage } from './exit.ts';

/** Where an output's bytes go. */
export type OutputTarget =
  /** A regular file, or no file yet: written through a temporary file renamed into place. */
  | { kind: 'file'; path: string }
  /**
   * An existing device, FIFO or socket, or an open descriptor (`/dev/stdout`): written directly,
   * what was written stays written.
   */
  | { kind: 'special'; path: string };

/**
 * Decides how `path` is written.
 * @param path - The output path as the user gave it.
 * @returns The target; for a symbolic link to an existing file, the path it resolves to.
 * @throws {CliError} usage error (exit 2) when `path` is a folder, or a link or special file of
 *   another user.
 */
export async function outputTarget(path: string): Promise<OutputTarget> {
  // `-o /dev/stdout` names the descriptor the shell opened (`>> log`, `| reader`), not the file
  // behind it: that file is written through the descriptor, never replaced by a rename
  if (DESCRIPTOR_PATH.test(path)) return { kind: 'special', path };
  const entry = await lstat(path).catch(() => undefined);
  if (entry === undefined) {
    // `-o new/` names a folder that does not exist (or a file followed by a slash): not a file name
    if (path.endsWith('/'))
      throw usage(`${path} ends with /: the output must be a file`, 'name the file: -o FOLDER/NAME');
    return { kind: 'file', path };
  }
  if (entry.isSymbolicLink()) refuseForeign(path, entry, 'a symbolic link');
  // a dangling link has nothing to follow: it is replaced, as before
  const info: Stats | undefined = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry;
  if (info === undefined) return { kind: 'file', path };
  if (info.isDirectory()) {
    throw usage(
      `${path} is a folder; the output must be a file`,
      `name the file: -o ${path.replace(/\/+$/, '')}/NAME`,
    );
  }
  if (!info.isFile()) {
    refuseForeign(path, info, 'a device, FIFO or socket');
    return { kind: 'special', path };
  }
  return { kind: 'file', path: entry.isSymbolicLink() ? await realpath(path) : path };
}

/** Paths of this process's open descriptors (Linux: links into `/proc/self/fd`). */
const DESCRIPTOR_PATH = /^\/(?:dev\/(?:stdout|stderr|fd\/\d+)|proc\/self\/fd\/\d+)$/;

/** Refuses a link or special file owned by neither this user nor root. */
function refuseForeign(path: string, info: Stats, what: string): void {
  const me = process.getuid?.();
  if (me === undefined || info.uid === me || info.uid === 0) return;
  throw usage(
    `${path} is ${what} of another user (uid ${info.uid}): not written through`,
    'write to a path of your own',
  );
}
