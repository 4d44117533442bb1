// One writer per cache root across processes (app instances, the CLI). The
// lock is a file created atomically holding who owns it (lock-owner.ts), kept
// fresh by a heartbeat; a lock whose owner is dead, or whose heartbeat
// stopped, is taken over, and anything at the lock's path that we could not
// have written (a symlink, a folder, a FIFO) is cleared as broken.
import { randomBytes } from 'node:crypto';
import { type BigIntStats, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { CancelError, fsError, LockError } from './errors.js';
import {
  type LivenessToken,
  type LockOwner,
  openLivenessToken,
  ownerLiveness,
  parseOwner,
  processAlive,
  whereWeRun,
} from './lock-owner.js';
import { sleep } from './waits.js';

export interface LockOptions {
  signal?: AbortSignal | undefined;
  /** Called once when the lock is held by someone else and we start waiting. */
  onWait?: () => void;
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** A heartbeat older than this means the owner is gone, when nothing else can tell (ms). */
  staleMs?: number;
  pollMs?: number;
}

export interface HeldLock {
  release(): Promise<void>;
}

const HEARTBEAT_MS = 2_000;
const PID_REUSE_MS = 10 * 60_000;
/** An attempt lives for a write and a link; one this old belongs to no running acquire. */
const ATTEMPT_MAX_AGE_MS = 10_000;

export async function acquireLock(lockFile: string, options: LockOptions = {}): Promise<HeldLock> {
  const staleMs = options.staleMs ?? 15_000;
  const pollMs = options.pollMs ?? 100;
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
  const dir = path.dirname(lockFile);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw fsError(`cannot create ${dir}`, dir, err);
  }
  const token = randomBytes(8).toString('hex');
  // The liveness token must be up before the lock can name it: a waiter
  // probing a lock whose token is not listening yet would judge it dead.
  const liveness = await openLivenessToken(token);
  const mine: LockOwner = { pid: process.pid, token, ...whereWeRun() };
  if (liveness.name) mine.sock = liveness.name;
  try {
    // A would-be owner killed on its way to the lock leaves its attempt behind;
    // clear those first so repeated crashes never pile them up.
    await removeDeadLockAttempts(lockFile);
    let waited = false;
    let clearedLastRound = false;
    let holder: LockOwner | undefined;
    for (;;) {
      if (options.signal?.aborted) throw new CancelError();
      const handle = await tryCreate(lockFile, mine);
      if (handle) return hold(lockFile, handle, liveness);
      const seen = await inspect(lockFile);
      const cleared = seen.kind === 'gone' || (await clearIfStale(lockFile, seen, staleMs));
      if (seen.kind === 'lock') holder = seen.owner;
      if (!cleared && !waited) {
        waited = true;
        options.onWait?.();
      }
      // Every round, whatever happened in it, passes the deadline and an
      // abortable wait: a lock path that keeps "clearing" without ever
      // becoming ours must not spin.
      if (Date.now() > deadline) throw lockedError(lockFile, holder);
      // Straight back after clearing the way, but never twice in a row.
      const wait = cleared && !clearedLastRound ? 0 : pollMs;
      clearedLastRound = cleared;
      await sleep(wait, options.signal);
    }
  } catch (err) {
    liveness.close();
    throw err;
  }
}

function lockedError(lockFile: string, holder: LockOwner | undefined): LockError {
  const root = path.dirname(path.dirname(lockFile));
  const who = holder ? ` (pid ${holder.pid} on ${holder.host})` : '';
  return new LockError(
    `the cache at ${root} is locked by another process${who}; try again when it has finished`,
  );
}

/**
 * The lock appears whole or not at all: its content goes to a file of our own
 * first, which is then hard-linked to the lock's name (atomic, and EEXIST when
 * someone holds it). A crash can leave our own file behind, never an empty lock.
 * Returns the open lock file (its heartbeat goes through it), or undefined
 * when someone else holds the lock.
 */
async function tryCreate(lockFile: string, mine: LockOwner): Promise<FileHandle | undefined> {
  const own = `${lockFile}.${mine.pid}.${mine.token}.new`;
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(own, 'wx');
    await handle.writeFile(JSON.stringify(mine));
    await fs.link(own, lockFile);
    const created = handle;
    handle = undefined;
    return created;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    // Someone judged our attempt abandoned (we were paused, or in a pid
    // namespace they cannot see into) and removed it: just try again.
    if (code === 'ENOENT' && handle) return undefined;
    throw fsError(`cannot create ${lockFile}`, path.dirname(lockFile), err);
  } finally {
    await handle?.close().catch(() => {});
    await fs.rm(own, { force: true });
  }
}

/**
 * Files a would-be owner wrote on its way to the lock and left behind when it
 * died. Removing one whose owner is in fact alive costs that owner only a
 * retry (tryCreate), so doubt resolves to removal once an attempt is old.
 */
export async function removeDeadLockAttempts(lockFile: string): Promise<void> {
  const dir = path.dirname(lockFile);
  const prefix = `${path.basename(lockFile)}.`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]+\.new$/.exec(name.slice(prefix.length)) : null;
    if (!m) continue;
    const file = path.join(dir, name);
    if (await attemptAbandoned(file, Number(m[1]))) await fs.rm(file, { force: true });
  }
}

async function attemptAbandoned(file: string, pidInName: number): Promise<boolean> {
  let st: import('node:fs').Stats;
  let text: string;
  try {
    st = await fs.lstat(file);
    if (!st.isFile()) return true;
    text = await fs.readFile(file, 'utf8');
  } catch {
    return false; // gone already
  }
  if (Date.now() - st.mtimeMs > ATTEMPT_MAX_AGE_MS) return true;
  const owner = parseOwner(text);
  // Killed before its content was written: only the name's pid is left, and
  // it may belong to another namespace; removing it is harmless (see above).
  if (!owner) return !processAlive(pidInName);
  return (await ownerLiveness(owner)) === 'dead';
}

function hold(lockFile: string, handle: FileHandle, liveness: LivenessToken): HeldLock {
  // The heartbeat tells other processes we are alive where the pid and the
  // liveness token cannot (another host). It touches our own file through its
  // handle, never whatever is at the path now: a lock that replaced ours
  // must not be kept fresh by us.
  const beat = setInterval(() => {
    const now = new Date();
    handle.utimes(now, now).catch(() => {});
  }, HEARTBEAT_MS);
  beat.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      try {
        const ours = await handle.stat({ bigint: true }).catch(() => undefined);
        await handle.close().catch(() => {});
        // Only remove the lock if it is still ours (a stale takeover may have replaced it).
        const current = await fs.lstat(lockFile, { bigint: true }).catch(() => undefined);
        if (ours && current && sameFile(current, ours)) await fs.rm(lockFile, { force: true });
      } finally {
        // Last: until the lock is gone, a waiter probing the token must hear "alive".
        liveness.close();
      }
    },
  };
}

function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

type Seen =
  | { kind: 'gone' }
  /** Not a regular file: nothing we could have written, so no one holds it. */
  | { kind: 'broken'; st: BigIntStats }
  | { kind: 'lock'; st: BigIntStats; owner: LockOwner | undefined };

async function inspect(lockFile: string): Promise<Seen> {
  let st: BigIntStats;
  try {
    // lstat: a symlink at the lock's path is judged itself, never followed
    // (a dangling or looping one would look "gone" for ever).
    st = await fs.lstat(lockFile, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
    throw fsError(`cannot read ${lockFile}`, path.dirname(lockFile), err);
  }
  if (!st.isFile()) return { kind: 'broken', st };
  const text = await fs.readFile(lockFile, 'utf8').catch(() => '');
  return { kind: 'lock', st, owner: parseOwner(text) };
}

/** Clears a broken lock at once, a lock at once when its owner is dead or silent too long; true if cleared. */
async function clearIfStale(
  lockFile: string,
  seen: Exclude<Seen, { kind: 'gone' }>,
  staleMs: number,
): Promise<boolean> {
  if (seen.kind === 'lock') {
    const heartbeatAge = Date.now() - Number(seen.st.mtimeMs);
    // An empty or unreadable lock is judged by its age alone: fresh, it is
    // someone's lock still being written.
    const owner = seen.owner ? await ownerLiveness(seen.owner) : 'unknown';
    // A live pid whose heartbeat paused (a sleeping laptop) keeps its lock,
    // unless the silence is so long the pid has likely been reused. A token
    // that answers cannot be reused: its owner keeps the lock.
    const stale =
      owner === 'dead' ||
      (owner === 'pid-alive' && heartbeatAge > PID_REUSE_MS) ||
      (owner === 'unknown' && heartbeatAge > staleMs);
    if (!stale) return false;
  }
  await moveAsideAndRemove(lockFile, seen.st);
  return true;
}

/**
 * Moves what we judged aside rather than deleting it by name, then checks we
 * moved the very file we judged: if another process replaced it meanwhile,
 * that one is put back.
 */
async function moveAsideAndRemove(lockFile: string, judged: BigIntStats): Promise<void> {
  const aside = `${lockFile}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(lockFile, aside);
  } catch {
    return; // someone else cleared it first
  }
  const moved = await fs.lstat(aside, { bigint: true }).catch(() => undefined);
  if (moved && !sameFile(moved, judged)) {
    await fs.link(aside, lockFile).catch(() => {});
  }
  // recursive: a folder squatting on the lock's name goes too; rm never follows a symlink.
  await fs.rm(aside, { recursive: true, force: true }).catch(() => {});
}
