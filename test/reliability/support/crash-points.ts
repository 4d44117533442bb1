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
 * Watches for `point` while `start()` runs a sync, and SIGKILLs it at once.
 * Resolves true when the kill was sent at the point.
 */
export async function killAt(
  root: string,
  key: string,
  point: CrashPoint,
  start: () => SyncRun,
): Promise<{ run: SyncRun; hit: boolean }> {
  const dir = path.join(root, point.dir(key));
  // inotify needs the folder to exist before the sync creates anything in it.
  await mkdir(dir, { recursive: true });
  let hit = false;
  let run: SyncRun | undefined;
  const watcher: FSWatcher = watch(dir, (_event, name) => {
    if (hit || !run || !name || !point.matches(name, key)) return;
    // 'rename' is also what a deletion reports: only an appearance counts. A
    // temp file's name is unique, so its first event is its creation, however
    // short-lived it is.
    if (!name.endsWith('.tmp') && !existsSync(path.join(dir, name))) return;
    hit = true;
    run.kill('SIGKILL');
  });
  run = start();
  await run.done.finally(() => watcher.close());
  return { run, hit };
}
