// The machine around the numbers: page cache, load, what the disk is. Cold
// runs start with an empty page cache so each pays the same I/O; a busy
// machine is reported rather than hidden.

import { execFileSync } from 'node:child_process';
import { statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const TMPFS_MAGIC = 0x01021994;

/** Writes back dirty pages (untimed), then drops the page cache. False when not allowed (not root). */
export function dropCaches(): boolean {
  execFileSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** True when `dir` is on tmpfs, where "writing to disk" would measure memory copies. */
export function onTmpfs(dir: string): boolean {
  return statfsSync(dir).type === TMPFS_MAGIC;
}

export function loadAverage(): number {
  return os.loadavg()[0] ?? 0;
}

function sh(cmd: string): string {
  try {
    return execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();
  } catch {
    return '(unavailable)';
  }
}

/** The lines docs/performance.md shows under "Machine". */
export function describeMachine(dir: string): string[] {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return [
    `CPU: ${os.cpus().length} × ${cpu} (nproc ${sh('nproc')})`,
    `Memory: ${sh('free -h | awk \'/^Mem:/ {print $2 " total, " $7 " available"}\'')}`,
    `Disk: ${sh(`df -h ${dir} | awk 'NR==2 {print $1 " " $2 " (" $4 " free), mounted on " $6}'`)}, ${sh(`findmnt -no FSTYPE -T ${dir}`)}`,
    `Kernel: ${os.release()}; node ${process.version}; ${sh('curl --version | head -1 | cut -d" " -f1-2')}; ${sh('openssl version')}`,
    `Load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ];
}
