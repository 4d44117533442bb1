// A pause that outlives its process: the paused sync's last snapshot, kept in
// `<root>/state/paused.json` until a sync of the root starts again (a resume,
// a check for updates, `vm-cache sync`) or a clear. Another process, and the
// app's next launch, read it to show "Paused — 1.2 GB of 3.1 GB" and to leave
// the download alone until the user resumes it; it holds no lock, so nothing
// waits on it. A marker that is not a paused snapshot of this root is ignored.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type SyncProgress, SyncProgressSchema } from '../../contract/progress.js';
import { readSmallRegularFile, writeFileAtomic } from './atomic.js';
import { stateDir } from './paths.js';

/** A snapshot of a few artifacts is a few kB; anything larger is not ours. */
const MAX_MARKER_BYTES = 1 << 20;

export function pausedMarkerPath(root: string): string {
  return path.join(stateDir(root), 'paused.json');
}

/** Writes and removals of one root's marker, one after another: a resume's removal never overtakes a pause's write. */
const pending = new Map<string, Promise<void>>();

function inTurn(root: string, op: () => Promise<void>): Promise<void> {
  const next = (pending.get(root) ?? Promise.resolve()).then(op).catch(() => {});
  pending.set(root, next);
  void next.then(() => {
    if (pending.get(root) === next) pending.delete(root);
  });
  return next;
}

/** Records the pause; a failure (a read-only cache) only loses what other processes would see. */
export function writePausedMarker(root: string, snapshot: SyncProgress): Promise<void> {
  return inTurn(root, () =>
    writeFileAtomic(pausedMarkerPath(root), JSON.stringify(snapshot), { durable: false }),
  );
}

export function removePausedMarker(root: string): Promise<void> {
  return inTurn(root, () => fs.rm(pausedMarkerPath(root), { force: true }));
}

/** The paused snapshot another process (or an earlier run) left for `root`, if any. */
export async function readPausedMarker(root: string): Promise<SyncProgress | undefined> {
  await pending.get(root);
  const text = await readSmallRegularFile(pausedMarkerPath(root), MAX_MARKER_BYTES);
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = SyncProgressSchema.safeParse(data);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  // Only a paused sync of this very root (a copied or hand-made file names another).
  if (p.paused !== true || p.phase !== 'cancelled' || path.resolve(p.root) !== path.resolve(root))
    return undefined;
  return p;
}
