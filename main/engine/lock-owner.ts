// Who holds a lock, and is that process still alive? A pid means something
// only inside its own pid namespace on its own kernel: a holder inside a
// Flatpak or bubblewrap sandbox (or `unshare -p`) has a pid that names no
// process, or a different one, outside it. So the owner records where its pid
// and its liveness token mean anything, and a waiter uses each only there.
import { readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/** What a lock (or a lock attempt) says about the process that wrote it. */
export interface LockOwner {
  pid: number;
  host: string;
  token: string;
  /** The kernel's boot id (Linux): pids and namespaces compare only within one kernel. */
  boot?: string;
  /** e.g. `pid:[4026531836]` (Linux): the namespace the pid belongs to. */
  pidNs?: string;
  /** The network namespace (Linux), where the abstract socket `sock` can be reached. */
  netNs?: string;
  /** Abstract Unix socket the owner listens on while it lives (Linux). */
  sock?: string;
}

/**
 * - `alive`: the owner's liveness token answered (the kernel holds it open
 *   exactly as long as the owner lives, whatever its pid namespace).
 * - `pid-alive`: its pid names a live process in our namespace (which could be
 *   a reused pid after a very long silence).
 * - `dead`: the token was refused, or the pid names no process.
 * - `unknown`: neither can be checked from here; only the heartbeat can tell.
 */
export type Liveness = 'alive' | 'pid-alive' | 'dead' | 'unknown';

interface Here {
  host: string;
  boot?: string;
  pidNs?: string;
  netNs?: string;
}

let here: Here | undefined;

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read().trim() || undefined;
  } catch {
    return undefined;
  }
}

/** This process's place: read once (a process never changes namespace under Node). */
export function whereWeRun(): Here {
  if (here) return here;
  here = { host: os.hostname() };
  if (process.platform === 'linux') {
    const boot = readOrUndefined(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
    const pidNs = readOrUndefined(() => readlinkSync('/proc/self/ns/pid'));
    const netNs = readOrUndefined(() => readlinkSync('/proc/self/ns/net'));
    if (boot) here.boot = boot;
    if (pidNs) here.pidNs = pidNs;
    if (netNs) here.netNs = netNs;
  }
  return here;
}

/** A lock's content, or undefined when it is not an owner record we could have written. */
export function parseOwner(text: string): LockOwner | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  // pid 0 or a negative pid would make kill() probe a whole process group.
  if (!Number.isSafeInteger(d.pid) || (d.pid as number) <= 0) return undefined;
  if (typeof d.host !== 'string' || typeof d.token !== 'string') return undefined;
  const owner: LockOwner = { pid: d.pid as number, host: d.host, token: d.token };
  for (const key of ['boot', 'pidNs', 'netNs', 'sock'] as const) {
    if (typeof d[key] === 'string') owner[key] = d[key];
  }
  return owner;
}

/** A token that lives exactly as long as this process (or until closed). */
export interface LivenessToken {
  /** The socket's name to record in the lock, or undefined when none could be opened. */
  name: string | undefined;
  close(): void;
}

/**
 * Listens on an abstract Unix socket (Linux): it has no file to leave behind
 * or to exceed a path limit, and the kernel closes it when the process dies,
 * however it dies, so a waiter that gets ECONNREFUSED knows the owner is gone.
 * Elsewhere there are no pid namespaces and the pid rule is enough.
 */
export async function openLivenessToken(token: string): Promise<LivenessToken> {
  const none: LivenessToken = { name: undefined, close() {} };
  if (process.platform !== 'linux' || !whereWeRun().netNs) return none;
  const name = `electron-vm-cache.lock.${token}`;
  // Every connection is only a probe: answer by closing it.
  const server = net.createServer((socket) => socket.destroy());
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(`\0${name}`, () => resolve(true));
  });
  if (!listening) return none;
  // A held lock must never keep the process running.
  server.unref();
  return {
    name,
    close() {
      server.close();
    },
  };
}

const PROBE_TIMEOUT_MS = 1_000;

function probe(name: string): Promise<'alive' | 'dead' | 'unknown'> {
  return new Promise((resolve) => {
    const socket = net.connect(`\0${name}`);
    const done = (result: 'alive' | 'dead' | 'unknown') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('unknown'), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done('alive'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'dead' : 'unknown'),
    );
  });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function ownerLiveness(owner: LockOwner): Promise<Liveness> {
  const me = whereWeRun();
  // Two machines can share a hostname (and a network folder), but not a boot id.
  const sameKernel =
    owner.boot !== undefined && me.boot !== undefined ? owner.boot === me.boot : owner.host === me.host;
  if (!sameKernel) return 'unknown';
  // Abstract socket names are per network namespace: in another one a refusal would mean nothing.
  if (owner.sock !== undefined && owner.netNs !== undefined && owner.netNs === me.netNs) {
    const answer = await probe(owner.sock);
    if (answer !== 'unknown') return answer;
  }
  // The pid decides only in the pid namespace it belongs to. On Linux an
  // owner that did not record its namespace could be in any; other systems
  // have no pid namespaces.
  const pidNsKnown = me.pidNs !== undefined || process.platform !== 'linux';
  if (pidNsKnown && owner.pidNs === me.pidNs) return processAlive(owner.pid) ? 'pid-alive' : 'dead';
  return 'unknown';
}
