// The cross-process lock: two real processes on one root download each
// artifact once, the waiter says so, and a dead owner's lock is taken over.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureVmCacheSynced } from '../../main/engine/index.js';
import { lockPath } from '../../main/engine/local-state.js';
import { acquireLock } from '../../main/engine/lock.js';
import { runTsChild, server, tempRoot } from '../helpers.js';

const child = fileURLToPath(new URL('./fixtures/sync-child.ts', import.meta.url));
const holder = fileURLToPath(new URL('./fixtures/lock-holder.ts', import.meta.url));

describe('cross-process lock', () => {
  it('three processes, several calls each, on one root: each artifact downloaded once, all succeed', async () => {
    const s = await server({
      artifacts: [
        { agent: 'a', version: '1', arch: 'x64', sizeBytes: 400_000 },
        { agent: 'a', version: '1', arch: 'arm64', sizeBytes: 300_000 },
      ],
    });
    for (const arch of ['x64', 'arm64'])
      s.setFault(`vm/images/a-1-${arch}.tar.gz`, { dripBytesPerSec: 400_000 });
    const root = await tempRoot();
    const runs = [1, 2, 3].map(() => runTsChild(child, [root, s.manifestUrl, '3']));
    const outs = await Promise.all(runs.map((r) => r.done));
    for (const out of outs) {
      expect(out.code, out.stderr).toBe(0);
      expect(out.lines.at(-1)).toMatchObject({ shared: true, result: { manifestPath: expect.any(String) } });
    }
    for (const arch of ['x64', 'arm64']) {
      expect(s.requests.filter((r) => r.path === `vm/images/a-1-${arch}.tar.gz`)).toHaveLength(1);
    }
    const downloaders = outs.filter(
      (o) => (o.lines.at(-1) as { result: { skipped: boolean } }).result.skipped === false,
    );
    expect(downloaders).toHaveLength(1);
    // The others waited for the lock and found the work done.
    const waiters = outs.filter((o) => o.lines.some((l) => l.phase === 'waiting-for-lock'));
    expect(waiters.length).toBeGreaterThanOrEqual(1);
    expect(existsSync(lockPath(root))).toBe(false);
  }, 60_000);

  it('a lock left by a dead process is taken over', async () => {
    const s = await server({ artifacts: [{ agent: 'a', version: '1', arch: 'x64', sizeBytes: 10_000 }] });
    const root = await tempRoot();
    // A real owner that exits without releasing: its lock records everything
    // a current owner does (pid, host, namespaces, liveness token).
    const left = await runTsChild(holder, [lockPath(root), 'exit']).done;
    expect(left.code, left.stderr).toBe(0);
    expect(existsSync(lockPath(root))).toBe(true);
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      lockTimeoutMs: 5000,
    });
    expect(result.downloaded).toHaveLength(1);
    expect(existsSync(lockPath(root))).toBe(false);
  });

  it('a lock that says too little to judge its owner (an older version) waits for its heartbeat to go stale', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('close', r));
    const root = await tempRoot();
    await mkdir(path.dirname(lockPath(root)), { recursive: true });
    await writeFile(lockPath(root), JSON.stringify({ pid: dead.pid, host: hostname(), token: 'x' }));
    // Its heartbeat is the file's mtime, and stale is judged on that clock: timed from a start
    // taken after the write (a loaded machine can put 100 ms between them), a takeover at the
    // right moment could look early. A lock taken over at once, trusting the dead pid, is a few ms old.
    const written = (await stat(lockPath(root))).mtimeMs;
    // Its pid could belong to another pid namespace, where that process may well live.
    const lock = await acquireLock(lockPath(root), { staleMs: 300, timeoutMs: 10_000 });
    expect(Date.now() - written).toBeGreaterThan(300);
    expect(JSON.parse(await readFile(lockPath(root), 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('a process killed while holding the lock does not block the next one', async () => {
    const s = await server({ artifacts: [{ agent: 'a', version: '1', arch: 'x64', sizeBytes: 2_000_000 }] });
    s.setFault('vm/images/a-1-x64.tar.gz', { dripBytesPerSec: 500_000, times: 1 });
    const root = await tempRoot();
    const run = runTsChild(child, [root, s.manifestUrl]);
    const deadline = Date.now() + 20_000;
    while (!existsSync(lockPath(root)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const owner = JSON.parse(await readFile(lockPath(root), 'utf8'));
    expect(owner.pid).toBe(run.pid);
    run.kill('SIGKILL');
    await run.done;
    expect(existsSync(lockPath(root))).toBe(true);
    const result = await ensureVmCacheSynced({
      root,
      manifestUrl: s.manifestUrl,
      rawHostArch: 'x64',
      allArches: true,
    });
    expect(result.downloaded).toEqual(['vm/images/a-1-x64.tar.gz']);
  });
});
