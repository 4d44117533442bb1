// Crash points: moments too short for a random kill to find reliably (a temp
// file's life, the instant after a rename), caught by watching the cache's
// folders with inotify (fs.watch) and sending SIGKILL the moment the sync
// process creates the file that marks the point.
import { existsSync, type FSWatcher, watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { SyncRun } from './launch.js';

export interface CrashPoint {
  name: string;
  /** Folder to watch, relative to the root. */
  dir: (key: string) => string;
  /** The file (name within dir) whose appearance is the moment to kill. */
  matches: (name: string, key: string) => boolean;
  /** The moment is the file's removal instead (a move deleting the old root). */
  gone?: boolean;
}

const base = (key: string) => path.posix.basename(key);
const images = (key: string) => `cache/${path.posix.dirname(key)}`;

export const CRASH_POINTS: CrashPoint[] = [
  { name: 'lock file created', dir: () => 'state', matches: (n) => n === 'sync.lock' },
  { name: 'resume sidecar created', dir: images, matches: (n, k) => n === `${base(k)}.partial.json` },
  { name: 'partial created', dir: images, matches: (n, k) => n === `${base(k)}.partial` },
  { name: 'tarball renamed into place', dir: images, matches: (n, k) => n === base(k) },
  {
    name: 'manifest temp file created',
    dir: () => 'cache/vm',
    matches: (n) => /^\.manifest\.json\..*\.tmp$/.test(n),
  },
  { name: 'manifest renamed into place', dir: () => 'cache/vm', matches: (n) => n === 'manifest.json' },
  {
    name: 'last-sync temp file created',
    dir: () => 'state',
    matches: (n) => /^\.last-sync\.json\..*\.tmp$/.test(n),
  },
  { name: 'last-sync renamed into place', dir: () => 'state', matches: (n) => n === 'last-sync.json' },
];

/**
 * Watches for `point` while `start()` runs a sync (or any child process of
 * the engine's, such as a move), and SIGKILLs it at once. Resolves true when
 * the kill was sent at the point.
 */
export async function killAt<Run extends Pick<SyncRun, 'kill'> & { done: Promise<unknown> } = SyncRun>(
  root: string,
  key: string,
  point: CrashPoint,
  start: () => Run,
): Promise<{ run: Run; hit: boolean }> {
  const dir = path.join(root, point.dir(key));
  // inotify needs the folder to exist before the sync creates anything in it.
  await mkdir(dir, { recursive: true });
  let hit = false;
  let run: Run | undefined;
  const watcher: FSWatcher = watch(dir, (_event, name) => {
    if (hit || !run || !name || !point.matches(name, key)) return;
    // 'rename' is also what a deletion reports: only an appearance counts. A
    // temp file's name is unique, so its first event is its creation, however
    // short-lived it is. For a removal it is the other way round.
    const there = existsSync(path.join(dir, name));
    if (point.gone ? there : !name.endsWith('.tmp') && !there) return;
    hit = true;
    run.kill('SIGKILL');
  });
  // The folder watched may itself be removed (a move deleting the old root).
  watcher.on('error', () => {});
  run = start();
  await run.done.finally(() => watcher.close());
  return { run, hit };
}
