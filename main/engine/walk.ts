// Walks the cache the way a user sees it. A link to a folder (a symlink, or a
// junction on Windows) inside the cache is how big files are moved to another
// disk, so it is followed like a folder, never treated as a file to delete;
// each real folder is entered once, so a link to an ancestor cannot loop.
import type { Stats } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export type CacheEntryKind =
  /** A real folder. */
  | 'dir'
  /** A link to a folder: walked into, never removed by us. */
  | 'dir-link'
  /** A regular file. */
  | 'file'
  /** Anything else: a link to a file, a dangling link, a FIFO, a socket, a device. */
  | 'other';

export interface CacheEntry {
  /** The path through the cache, links and all (what a key resolves to). */
  abs: string;
  /** `abs` relative to the walk's start, with `/` separators. */
  rel: string;
  kind: CacheEntryKind;
  /** lstat of the entry itself (for a 'dir-link', of the link). */
  lstat: Stats;
  /**
   * Reached through a link to a folder: that folder is the user's (another
   * disk) and may hold their own files, so only what is provably ours is
   * ever removed from it.
   */
  linked: boolean;
}

function identity(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * Every entry under `dir`, parents before children. Folders that cannot be
 * read are skipped (the walk is for pruning, sizing and checking, and none of
 * those may fail on a folder the user locked). `dir` itself may be a link.
 */
export async function* walkCache(dir: string): AsyncGenerator<CacheEntry> {
  let top: Stats;
  try {
    top = await fs.stat(dir);
  } catch {
    return;
  }
  if (!top.isDirectory()) return;
  const entered = new Set<string>([identity(top)]);
  yield* walkInto(dir, dir, entered, false);
}

async function* walkInto(
  start: string,
  dir: string,
  entered: Set<string>,
  linked: boolean,
): AsyncGenerator<CacheEntry> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  names.sort();
  for (const name of names) {
    const abs = path.join(dir, name);
    const rel = path.relative(start, abs).split(path.sep).join('/');
    let lstat: Stats;
    try {
      lstat = await fs.lstat(abs);
    } catch {
      continue; // gone meanwhile
    }
    if (lstat.isDirectory()) {
      yield { abs, rel, kind: 'dir', lstat, linked };
      if (!entered.has(identity(lstat))) {
        entered.add(identity(lstat));
        yield* walkInto(start, abs, entered, linked);
      }
    } else if (lstat.isSymbolicLink()) {
      const target = await fs.stat(abs).catch(() => undefined);
      if (target?.isDirectory()) {
        yield { abs, rel, kind: 'dir-link', lstat, linked };
        if (!entered.has(identity(target))) {
          entered.add(identity(target));
          yield* walkInto(start, abs, entered, true);
        }
      } else {
        yield { abs, rel, kind: 'other', lstat, linked };
      }
    } else {
      yield { abs, rel, kind: lstat.isFile() ? 'file' : 'other', lstat, linked };
    }
  }
}
