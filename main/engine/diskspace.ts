// Checked before the first byte is written: a multi-GB download that fills the
// disk at 90 % wastes the user's time and can break other apps.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DiskFullError } from './errors.js';

/** Free bytes available to this user on the filesystem holding `dir` (or its nearest existing parent). */
export async function freeBytes(dir: string): Promise<number | undefined> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const s = await fs.statfs(current);
      return s.bavail * s.bsize;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== current) {
        current = parent;
        continue;
      }
      // statfs unsupported here: the ENOSPC handling during writes still protects the cache.
      return undefined;
    }
  }
}

/** The safety margin on top of the missing bytes: 1 % of them, at least 1 MiB. */
export function marginFor(missingBytes: number): number {
  return Math.max(1 << 20, Math.ceil(missingBytes * 0.01));
}

export async function assertDiskSpace(
  dir: string,
  missingBytes: number,
  marginBytes = marginFor(missingBytes),
): Promise<void> {
  if (missingBytes === 0) return;
  const free = await freeBytes(dir);
  if (free === undefined) return;
  const needed = missingBytes + marginBytes;
  if (free < needed) throw new DiskFullError(dir, needed, free);
}
