// One writer per cache root across processes (app instances, the CLI). The
// lock is a file created with O_EXCL holding the owner's pid and host, kept
// fresh by a heartbeat; a lock whose owner is dead, or whose heartbeat stopped,
// is taken over.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fsError, LockError } from './errors.js';
import { sleep } from './retry.js';

export interface LockOptions {
  signal?: AbortSignal | undefined;
  /** Called once when the lock is held by someone else and we start waiting. */
  onWait?: () => void;
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** A heartbeat older than this means the owner is gone (ms). */
  staleMs?: number;
  pollMs?: number;
}

interface LockInfo {
  pid: number;
  host: string;
  token: string;
}

export interface HeldLock {
  release(): Promise<void>;
}

const HEARTBEAT_MS = 2_000;
const PID_REUSE_MS = 10 * 60_000;

export async function acquireLock(lockFile: string, options: LockOptions = {}): Promise<HeldLock> {
  const staleMs = options.staleMs ?? 15_000;
  const pollMs = options.pollMs ?? 100;
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), token: randomBytes(8).toString('hex') };
  try {
    await fs.mkdir(path.dirname(lockFile), { recursive: true });
  } catch (err) {
    throw fsError(`cannot create ${path.dirname(lockFile)}`, path.dirname(lockFile), err);
  }
  // A would-be owner killed on its way to the lock leaves its attempt behind;
  // clear those first so repeated crashes never pile them up.
  await removeDeadLockAttempts(lockFile);
  let waited = false;
  for (;;) {
    if (await tryCreate(lockFile, mine)) return hold(lockFile, mine);
    if (await takeOverIfStale(lockFile, staleMs)) continue;
    if (!waited) {
      waited = true;
      options.onWait?.();
    }
    if (Date.now() > deadline) {
      throw new LockError(
        `the cache at ${path.dirname(path.dirname(lockFile))} is locked by another process; try again when it has finished`,
      );
    }
    await sleep(pollMs, options.signal);
  }
}

/**
 * The lock appears whole or not at all: its content goes to a file of our own
 * first, which is then hard-linked to the lock's name (atomic, and EEXIST when
 * someone holds it). A crash can leave our own file behind, never an empty lock.
 */
async function tryCreate(lockFile: string, mine: LockInfo): Promise<boolean> {
  const own = `${lockFile}.${mine.pid}.${mine.token}.new`;
  try {
    await fs.writeFile(own, JSON.stringify(mine), { flag: 'wx' });
    await fs.link(own, lockFile);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fsError(`cannot create ${lockFile}`, path.dirname(lockFile), err);
  } finally {
    await fs.rm(own, { force: true });
  }
}

/** Files a would-be owner wrote on its way to the lock and left behind when it died. */
export async function removeDeadLockAttempts(lockFile: string): Promise<void> {
  const dir = path.dirname(lockFile);
  const prefix = `${path.basename(lockFile)}.`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]+\.new$/.exec(name.slice(prefix.length)) : null;
    if (m && !processAlive(Number(m[1]))) await fs.rm(path.join(dir, name), { force: true });
  }
}

function hold(lockFile: string, mine: LockInfo): HeldLock {
  // The heartbeat tells other processes we are alive even across pid reuse or another host.
  const beat = setInterval(() => {
    const now = new Date();
    fs.utimes(lockFile, now, now).catch(() => {});
  }, HEARTBEAT_MS);
  beat.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      // Only remove the lock if it is still ours (a stale takeover may have replaced it).
      const current = await readLock(lockFile);
      if (current?.token === mine.token) await fs.rm(lockFile, { force: true });
    },
  };
}

async function readLock(lockFile: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await fs.readFile(lockFile, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function takeOverIfStale(lockFile: string, staleMs: number): Promise<boolean> {
  let st: import('node:fs').Stats;
  try {
    st = await fs.stat(lockFile);
  } catch {
    return true; // gone already: try to create it again
  }
  const info = await readLock(lockFile);
  const heartbeatAge = Date.now() - st.mtimeMs;
  const sameHost = info !== undefined && info.host === os.hostname();
  // On this host the pid decides: a live owner whose heartbeat paused (a
  // sleeping laptop) keeps its lock, unless the silence is so long that the
  // pid has likely been reused. Across hosts only the heartbeat can tell.
  const stale = sameHost ? !processAlive(info.pid) || heartbeatAge > PID_REUSE_MS : heartbeatAge > staleMs; // includes a lock file still empty for a moment: fresh, so not stale
  if (!stale) return false;
  // Move the stale lock aside rather than deleting it, then check we moved
  // the one we judged: if another process replaced it meanwhile, put it back.
  const aside = `${lockFile}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(lockFile, aside);
  } catch {
    return true;
  }
  const moved = await readLock(aside);
  if (info && moved && moved.token !== info.token) {
    await fs.link(aside, lockFile).catch(() => {});
  }
  await fs.rm(aside, { force: true });
  return true;
}
