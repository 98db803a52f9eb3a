/**
 * The lock of a resume journal: one run at a time continues an upload. Two runs on one journal
 * would send the same parts twice, rewrite each other's journal and complete (or abort) the upload
 * under each other. The lock is a file beside the journal (`JOURNAL.lock`) that names its holder
 * (PID, host), created whole or not at all: its content is written to a temporary file first,
 * which is then hard-linked to the lock's path, and the link fails when a lock exists (O_EXCL
 * semantics, without a moment when the lock exists but is empty). A lock whose holder was on this
 * host and is no longer alive (killed) is stale and taken over. A holder is alive when its PID
 * exists and, where the system tells (Linux: the boot and the process's start time), that PID is
 * still the same process: a PID reused by another process after the holder died does not keep
 * its lock.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { SosError } from '../errors.ts';

/** A lock held by this process. */
export interface JournalLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock, if it is still this one's. Never throws. */
  release(): Promise<void>;
}

/** What a lock file holds. */
interface Holder {
  pid: number;
  host: string;
  /** Tells this lock from another one of the same process. */
  token: string;
  /**
   * Which process had that PID: the boot ID and its start time in clock ticks since boot (Linux
   * `/proc`), so a PID reused after the holder died is told apart. Absent where `/proc` is not
   * (the PID alone decides then), and in locks written before it existed.
   */
  started?: string;
}

/** Attempts at taking a lock that keeps being replaced under us (stale takeovers racing). */
const ATTEMPTS = 5;

let tempCounter = 0;

/**
 * Takes the lock of the journal at `journalPath`.
 * @throws {SosError} `JOURNAL_LOCKED` when a live process (this one included) holds it, or one on
 *   another host, or the lock cannot be read; `JOURNAL_INVALID` when the lock cannot be created
 *   (a folder that does not exist or cannot be written).
 */
export async function lockJournal(journalPath: string): Promise<JournalLock> {
  const path = `${journalPath}.lock`;
  const started = processStarted(process.pid);
  const holder: Holder = {
    pid: process.pid,
    host: hostname(),
    token: randomBytes(16).toString('hex'),
    ...(started !== undefined ? { started } : {}),
  };
  const text = `${JSON.stringify(holder)}\n`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await create(path, text)) {
      return { path, release: () => release(path, holder.token) };
    }
    let found: string;
    try {
      found = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw locked(path, `it cannot be read (${(err as Error).message})`);
    }
    const other = parseHolder(found);
    if (other === undefined) {
      throw locked(path, 'it does not name its holder');
    }
    if (other.host !== holder.host) {
      throw locked(
        path,
        `process ${other.pid} on host ${other.host} holds it (it cannot be checked from here)`,
      );
    }
    if (isAlive(other)) {
      const who = other.pid === process.pid ? 'this process' : `process ${other.pid}`;
      throw locked(path, `${who} is continuing this upload`);
    }
    await removeStale(path, found);
  }
  throw locked(path, 'it kept being taken by other processes');
}

/** Creates the lock with its content. @returns false when a lock exists. */
async function create(path: string, text: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${tempCounter++}.tmp`;
  try {
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(text, 'utf8');
    } finally {
      await file.close();
    }
    await link(temp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return createWithoutLink(path, text);
    throw new SosError(
      'JOURNAL_INVALID',
      `the lock ${path} of the upload journal cannot be created: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/**
 * For file systems without hard links: O_EXCL, then the content (a run that finds the lock empty
 * in between takes it for held, which it is).
 */
async function createWithoutLink(path: string, text: string): Promise<boolean> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new SosError(
      'JOURNAL_INVALID',
      `the lock ${path} of the upload journal cannot be created: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    await file.writeFile(text, 'utf8');
  } finally {
    await file.close();
  }
  return true;
}

/**
 * Removes a stale lock, unless another run replaced it meanwhile: the lock is first renamed to a
 * name of our own (atomic: of two runs removing it, one gets it), then checked to be the one found
 * stale; a fresh lock moved away by mistake is put back.
 */
async function removeStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.${process.pid}.${tempCounter++}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return; // gone already: taken over or released by another run
  }
  try {
    const moved = await readFile(aside, 'utf8');
    if (moved !== staleText) await link(aside, path).catch(() => {});
  } finally {
    await unlink(aside).catch(() => {});
  }
}

async function release(path: string, token: string): Promise<void> {
  try {
    if (parseHolder(await readFile(path, 'utf8'))?.token === token) await unlink(path);
  } catch {
    // gone already, or unreadable: nothing of ours to remove
  }
}

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Holder;
    return Number.isSafeInteger(h.pid) &&
      h.pid > 0 &&
      typeof h.host === 'string' &&
      typeof h.token === 'string' &&
      (h.started === undefined || typeof h.started === 'string')
      ? h
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder (on this host) is still running: its PID exists (signal 0 checks without
 * sending anything) and, when the lock says which process had it and the system tells which has
 * it now, they are the same one.
 */
function isAlive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.started === undefined) return true;
  const now = processStarted(holder.pid);
  return now === undefined || now === holder.started;
}

/**
 * Which process has PID `pid`: the boot ID and the process's start time in clock ticks since boot
 * (field 22 of `/proc/PID/stat`), or `undefined` where `/proc` does not tell (not Linux, or the
 * process is gone).
 */
export function processStarted(pid: number): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 2 is the command name in parentheses, which may hold spaces and parentheses itself
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = fields[22 - 3];
    return boot !== '' && startTime !== undefined && /^\d+$/.test(startTime)
      ? `${boot}:${startTime}`
      : undefined;
  } catch {
    return undefined;
  }
}

function locked(path: string, why: string): SosError {
  return new SosError(
    'JOURNAL_LOCKED',
    `the upload journal is locked by ${path}: ${why}. Wait for that run to end; if no run of this upload is going on, remove the lock file`,
  );
}
