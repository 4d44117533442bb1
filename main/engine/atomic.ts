// Durable file replacement: temp file, fsync, rename, fsync the folder. A
// crash at any point leaves either the old file or the new one, never half.
import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

// Windows has neither flag; there the checks after opening (fstat) still hold.
/** Open flag: fail on a symlink in the last path component instead of following it. */
export const O_NOFOLLOW: number = fsConstants.O_NOFOLLOW ?? 0;
/** Open flag: a FIFO put where a file should be cannot block open() forever. */
export const O_NONBLOCK: number = fsConstants.O_NONBLOCK ?? 0;

export async function fsyncDir(dir: string): Promise<void> {
  // Windows cannot open a folder for fsync; its rename is already durable enough.
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The names of writeFileAtomic's temp files: `.<name>.<pid>.<8 hex>.tmp` (lockRoot clears them). */
export const ATOMIC_TEMP_NAME = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * `mode` applies from the first byte (a private key is never briefly
 * world-readable). `durable: false` skips the fsyncs: the file is replaced
 * whole or not at all if the process dies, but a power cut may lose it.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: { mode?: number; durable?: boolean } = {},
): Promise<void> {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, 'wx', options.mode ?? 0o666);
    try {
      if (options.mode !== undefined) await handle.chmod(options.mode); // whatever the umask
      await handle.writeFile(data);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  if (durable) await fsyncDir(dir);
}

/**
 * writeFileAtomic, skipped when `file` already holds exactly `text`: the
 * records a warm launch would rewrite unchanged cost no write and no fsync.
 * Returns whether it wrote.
 */
export async function writeFileAtomicIfChanged(file: string, text: string): Promise<boolean> {
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current === text) return false;
  await writeFileAtomic(file, text);
  return true;
}

/** Removes a file, ignoring "not there". */
export async function removeIfExists(file: string): Promise<void> {
  await fs.rm(file, { force: true });
}

export async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ENOENT' ||
      (err as NodeJS.ErrnoException).code === 'ENOTDIR'
    ) {
      return undefined;
    }
    throw err;
  }
}

/** lstat, or undefined when nothing is there: a link is reported as a link, never followed. */
export async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * True for a file we can write without touching anything else: a regular
 * file (not a link, FIFO or device) with no other name, so a hard link to a
 * file outside the cache is never written through.
 */
export function isOwnRegularFile(st: Stats): boolean {
  return st.isFile() && st.nlink === 1;
}

/**
 * A small file of our own bookkeeping, as text, or undefined when it is
 * absent, not a regular file (a link is not followed, a FIFO cannot block
 * the read) or larger than `maxBytes`.
 */
export async function readSmallRegularFile(file: string, maxBytes: number): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > maxBytes) return undefined;
    return await handle.readFile('utf8');
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to a new regular file at `file`, replacing whatever was there
 * (a link is removed, not written through). Not atomic: for bookkeeping that
 * is checked when read.
 */
export async function writeNewFile(file: string, data: string): Promise<void> {
  await fs.rm(file, { force: true });
  const handle = await fs.open(
    file,
    fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | O_NOFOLLOW,
    0o666,
  );
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}
