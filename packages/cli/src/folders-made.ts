/**
 * The folders a run makes on the way to its output files (`-o new/dir/out` makes `new` and
 * `new/dir`, as `aws s3 cp` does for a download), recorded so that a failed or interrupted run
 * leaves the file system as it found it: it removes those it made that are still empty, deepest
 * first, and never a folder that was there before it. A folder that cannot be made is named with
 * the system's real reason (Node's recursive `mkdir` hides it behind ENOENT, EEXIST or ENOTDIR).
 * @module
 */
import { rmdirSync } from 'node:fs';
import { lstat, mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CliError, EXIT, localError } from './exit.ts';

/**
 * The folders this run made for its outputs (absolute paths): a failed run removes those it left
 * empty, and never a folder that was there before it (`-o new/dir/out` that fails leaves no `new`).
 */
const foldersMade = new Set<string>();

/**
 * Makes the folder `dir` and those above it that are missing, and records the ones made.
 * @throws {CliError} when a folder cannot be made.
 */
export async function makeFolders(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true }).catch(async (cause) => {
    // a link to nothing on the way: recursive mkdir says EEXIST or ENOTDIR, which name neither
    const link = await danglingLinkOn(dir);
    if (link !== undefined) {
      throw new CliError(
        EXIT.ERROR,
        `the folder ${dir} cannot be made: ${link} is a symbolic link that leads nowhere`,
        { cause, hint: 'make the folder the link points to, or remove the link' },
      );
    }
    throw localError(await whyNoFolder(dir, cause), `the folder ${dir}`, 'cannot be made');
  });
  if (first === undefined) return;
  const top = resolve(first);
  for (let folder = resolve(dir); ; folder = dirname(folder)) {
    foldersMade.add(folder);
    if (folder === top || dirname(folder) === folder) break;
  }
}

/** The first folder on the way to `dir` that is a symbolic link to nothing, if there is one. */
async function danglingLinkOn(dir: string): Promise<string | undefined> {
  const way: string[] = [];
  for (let p = resolve(dir); dirname(p) !== p; p = dirname(p)) way.unshift(p);
  for (const p of way) {
    const entry = await lstat(p).catch(() => undefined);
    if (entry === undefined) return undefined;
    if (entry.isSymbolicLink() && (await stat(p).catch(() => undefined)) === undefined) return p;
  }
  return undefined;
}

/**
 * The real reason a folder could not be made: Node's recursive `mkdir` answers ENOENT for what
 * was EROFS or EACCES in a folder above (`-o /read-only/new/out` said "no such file"), so the
 * first missing folder under the deepest one that exists is made alone, for the system's answer.
 */
async function whyNoFolder(dir: string, cause: unknown): Promise<unknown> {
  if ((cause as { code?: string }).code !== 'ENOENT') return cause;
  let missing = resolve(dir);
  while (dirname(missing) !== missing && !(await stat(dirname(missing)).catch(() => undefined))) {
    missing = dirname(missing);
  }
  try {
    await mkdir(missing);
    await rmdir(missing);
    return cause;
  } catch (err) {
    return err;
  }
}

/**
 * Removes `dir` and the folders above it that this run made, deepest first, while they are empty;
 * stops at the first one that is not empty, or that was there before the run.
 */
export async function removeFoldersMade(dir: string): Promise<void> {
  for (let folder = resolve(dir); foldersMade.has(folder); folder = dirname(folder)) {
    try {
      await rmdir(folder);
    } catch {
      return;
    }
    foldersMade.delete(folder);
  }
}

/**
 * Removes every folder this run made that is empty, deepest first; for exit paths that cannot
 * wait (a second signal, `exit`). A folder holding a finished output stays.
 */
export function removeFoldersMadeSync(): void {
  // deepest first: a folder is empty only once the folders made in it are gone
  for (const folder of [...foldersMade].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(folder);
      foldersMade.delete(folder);
    } catch {
      // holds a finished output (or something else): it stays
    }
  }
}
