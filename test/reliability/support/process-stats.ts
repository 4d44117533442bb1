// Open file descriptors and memory of this process, for the soak's "no growth
// beyond noise": fds from /proc/self/fd (by kind, so a leaked file handle is
// told from a pooled keep-alive socket), memory after a forced GC when vitest
// runs with --expose-gc, else the smallest of a few samples.
import { readdirSync, readlinkSync } from 'node:fs';

export interface FdCount {
  total: number;
  sockets: number;
  files: number;
  other: number;
}

export function openFds(): FdCount {
  const count: FdCount = { total: 0, sockets: 0, files: 0, other: 0 };
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the fd readdir itself used, closed already
    }
    count.total++;
    if (target.startsWith('socket:')) count.sockets++;
    else if (target.startsWith('/')) count.files++;
    else count.other++;
  }
  return count;
}

export interface MemorySample {
  heapUsed: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  gc: boolean;
}

export async function memorySample(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    // Twice: the first pass frees what finalizers of the first release.
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const m = process.memoryUsage();
    return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers, gc: true };
  }
  let best: NodeJS.MemoryUsage | undefined;
  for (let i = 0; i < 5; i++) {
    const m = process.memoryUsage();
    if (!best || m.heapUsed < best.heapUsed) best = m;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    heapUsed: best!.heapUsed,
    rss: best!.rss,
    external: best!.external,
    arrayBuffers: best!.arrayBuffers,
    gc: false,
  };
}
