// "Move cache to…" in the app's controller: the picked folder, the switch
// recorded in the settings file, the controller (and whoever watches it)
// on the new root, a sync asked for during the move, and the old files a
// crash after the switch left, removed at the next start. Real syncs from the
// artifact server, real folders; the engine's own move has its tests in
// test/engine/move.test.ts and its crash points in test/reliability.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SyncProgress } from '../../contract/progress.js';
import { getPausedVmCacheSync } from '../../main/engine/index.js';
import { lockPath } from '../../main/engine/local-state.js';
import { acquireLock } from '../../main/engine/lock.js';
import { SettingsStore } from '../../main/service/settings.js';
import { oneArtifactServer, runTsChild, tempRoot } from '../helpers.js';
import { controllerFor, dripServer, recordingLogger, waitFor } from './support.js';

/** The reliability suite's move in a process of its own (it writes {root, leaving}, this file's format). */
const MOVE_CHILD = new URL('../reliability/fixtures/move-child.ts', import.meta.url).pathname;

const tarballRequests = (s: { requests: Array<{ path: string }> }) =>
  s.requests.filter((r) => r.path.endsWith('.tar.gz')).length;

async function syncedController(extra: { settingsFile?: string } = {}) {
  const s = await oneArtifactServer();
  const settingsFile = extra.settingsFile ?? path.join(await tempRoot(), 'vm-cache-settings.json');
  const settings = SettingsStore.load(settingsFile);
  const c = await controllerFor(s, { settings });
  await c.sync();
  return { s, c, settings, settingsFile };
}

describe('controller.moveCache', () => {
  it('moves to an empty picked folder, records it, and goes on there: status, watchers and syncs follow', async () => {
    const { s, c, settingsFile } = await syncedController();
    const from = c.root;
    const picked = path.join(await tempRoot(), 'Big disk');
    await mkdir(picked);
    const seen: SyncProgress[] = [];
    const unwatch = c.watchChanges((current) => seen.push(current()));

    const result = await c.moveCache(async () => picked);
    expect(result).toMatchObject({ moved: true, root: picked });
    expect(result.movedBytes).toBeGreaterThan(300_000);
    expect(c.root).toBe(picked);
    expect(existsSync(from)).toBe(false);
    // Recorded for the next launch, with nothing left to remove.
    expect(JSON.parse(await readFile(settingsFile, 'utf8'))).toEqual({ root: picked });
    expect(SettingsStore.load(settingsFile).current.root).toBe(picked);
    const status = await c.getStatus();
    expect(status.root).toBe(picked);
    expect(status.cached?.artifacts.every((a) => a.present)).toBe(true);

    // The moved cache is current: a sync downloads nothing, and a watcher from before the move hears it.
    const before = tarballRequests(s);
    expect(await c.sync()).toMatchObject({ skipped: true });
    expect(tarballRequests(s)).toBe(before);
    expect(seen.some((p) => p.root === picked)).toBe(true);
    unwatch();

    // A new controller on the same settings file starts at the new root, whatever root the host passes.
    const next = await controllerFor(s, { settings: SettingsStore.load(settingsFile) });
    expect(next.root).toBe(picked);
    expect(await next.hasCompleteCache()).toBe(true);
  });

  it('the switch is on disk, naming the old root still to remove, before a byte of the old cache goes', async () => {
    const { c, settings, settingsFile } = await syncedController();
    const from = c.root;
    const picked = path.join(await tempRoot(), 'moved');
    const seen: Array<{ file: unknown; oldManifest: boolean }> = [];
    const update = settings.update.bind(settings);
    settings.update = async (patch) => {
      await update(patch);
      seen.push({
        file: JSON.parse(await readFile(settingsFile, 'utf8')),
        oldManifest: existsSync(path.join(from, 'cache', 'vm', 'manifest.json')),
      });
    };
    await c.moveCache(async () => picked);
    // First the switch (old cache still whole), then, once the old files are gone, the record of them.
    expect(seen).toEqual([
      { file: { root: picked, leaving: [from] }, oldManifest: true },
      { file: { root: picked }, oldManifest: false },
    ]);
  });

  it('a relative host root is made absolute, so the switch can name it', async () => {
    const s = await oneArtifactServer();
    const relative = path.relative(process.cwd(), path.join(await tempRoot(), 'relative-root'));
    const c = await controllerFor(s, { root: relative });
    expect(c.root).toBe(path.resolve(relative));
    await c.sync();
    expect(await c.moveCache(async () => path.join(path.resolve(relative), '..', 'moved'))).toMatchObject({
      moved: true,
    });
  });

  it('a picked file is refused as itself (the cache stays whole where it is)', async () => {
    const { c } = await syncedController();
    const file = path.join(await tempRoot(), 'a-file');
    await writeFile(file, 'x');
    await expect(c.moveCache(async () => file)).rejects.toMatchObject({ code: 'ERR_CACHE_LAYOUT' });
    expect(await c.hasCompleteCache()).toBe(true);
  });

  it('a picked folder that holds other files gets a vm-cache folder inside it; those files stay', async () => {
    const { c } = await syncedController();
    const picked = await tempRoot();
    await writeFile(path.join(picked, 'holiday.jpg'), 'mine');
    const result = await c.moveCache(async () => picked);
    expect(result.root).toBe(path.join(picked, 'vm-cache'));
    expect(await readFile(path.join(picked, 'holiday.jpg'), 'utf8')).toBe('mine');
    expect(await c.hasCompleteCache()).toBe(true);
  });

  it('refused while a download runs (nothing moves, the picker is not even shown); fine once it ends', async () => {
    const { s } = await dripServer(600_000, 300_000);
    const c = await controllerFor(s, { settings: SettingsStore.load(undefined) });
    const syncing = c.sync();
    await waitFor(() => c.currentProgress()?.phase === 'downloading', 5_000, 'the download');
    let asked = 0;
    const pick = async () => {
      asked++;
      return tempRoot();
    };
    await expect(c.moveCache(pick)).rejects.toMatchObject({
      code: 'ERR_LOCK',
      message: /pause or cancel it/,
    });
    expect(asked).toBe(0);
    await syncing;
    const result = await c.moveCache(pick);
    expect(result.moved).toBe(true);
    expect(await c.hasCompleteCache()).toBe(true);
  });

  it('a sync asked for while the picker is open waits for the move, then runs at the new root', async () => {
    const { s, c } = await syncedController();
    const from = c.root;
    const picked = path.join(await tempRoot(), 'moved');
    let choose: ((folder: string) => void) | undefined;
    const moving = c.moveCache(
      () =>
        new Promise<string>((resolve) => {
          choose = resolve;
        }),
    );
    await waitFor(() => choose !== undefined, 5_000, 'the picker');
    const syncing = c.sync();
    // Nothing starts at the old root while the user chooses.
    await new Promise((r) => setTimeout(r, 100));
    expect(c.currentProgress()).toBeUndefined();
    choose!(picked);
    await moving;
    const before = tarballRequests(s);
    expect(await syncing).toMatchObject({ skipped: true });
    expect(tarballRequests(s)).toBe(before);
    expect(c.root).toBe(picked);
    expect(existsSync(from)).toBe(false);
  });

  it('a paused download moves with its partials and stays paused where it now is, also for the next launch', async () => {
    const { s } = await dripServer(900_000, 300_000);
    const c = await controllerFor(s, { settings: SettingsStore.load(undefined) });
    const syncing = c.sync();
    syncing.catch(() => {});
    await waitFor(() => (c.currentProgress()?.receivedBytes ?? 0) > 100_000, 5_000, 'the download');
    expect(await c.pause()).toEqual({ paused: true });
    const picked = path.join(await tempRoot(), 'moved');
    await c.moveCache(async () => picked);
    expect(await c.isPaused()).toBe(true);
    expect(await getPausedVmCacheSync(picked)).toMatchObject({ root: picked, paused: true });
    // Resume there fetches the rest.
    expect(await c.resume()).toMatchObject({ skipped: false });
    expect(await c.hasCompleteCache()).toBe(true);
    expect(await c.isPaused()).toBe(false);
  });

  it('a move that waits for another process says so, and Cancel ends it with the cache where it was', async () => {
    const { c, settingsFile } = await syncedController();
    const logger = recordingLogger();
    const from = c.root;
    // Another process's sync holds the cache (here: its lock, held by this test).
    const held = await acquireLock(lockPath(from), { timeoutMs: 1_000 });
    const withLog = await controllerFor(await oneArtifactServer(), {
      root: from,
      logger,
      settings: SettingsStore.load(settingsFile),
    });
    const picked = path.join(await tempRoot(), 'moved');
    const moving = withLog.moveCache(async () => picked);
    moving.catch(() => {});
    await waitFor(
      () => logger.lines.some((l) => l.text.includes('the move waits for another process')),
      5_000,
      'the wait',
    );
    expect(await withLog.cancel()).toEqual({ cancelled: true });
    await expect(moving).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await held.release();
    expect(withLog.root).toBe(from);
    expect(existsSync(picked)).toBe(false);
    expect(existsSync(settingsFile)).toBe(false);
    expect(await c.hasCompleteCache()).toBe(true);
  });

  it('closing the picker moves nothing and records nothing', async () => {
    const { c, settingsFile } = await syncedController();
    const from = c.root;
    expect(await c.moveCache(async () => null)).toEqual({ moved: false, root: from, movedBytes: 0 });
    expect(c.root).toBe(from);
    expect(existsSync(settingsFile)).toBe(false);
  });
});

describe('the old files a crash after the switch left', () => {
  it('are removed at the next start, and the settings file forgets them', async () => {
    // A real move in a child process that writes the switch into this settings file, killed as it
    // starts deleting the old root: what a crash after the switch leaves.
    const { s, c } = await syncedController();
    const old = c.root;
    const to = path.join(await tempRoot(), 'new-disk');
    const settingsFile = path.join(await tempRoot(), 'vm-cache-settings.json');
    const child = await runTsChild(MOVE_CHILD, [old, to, settingsFile, 'removing']).done;
    expect(child.code).toBeNull(); // SIGKILLed
    expect(JSON.parse(await readFile(settingsFile, 'utf8'))).toEqual({ root: to, leaving: old });
    expect(existsSync(path.join(old, 'cache'))).toBe(true);

    const settings = SettingsStore.load(settingsFile);
    const next = await controllerFor(s, { settings });
    expect(next.root).toBe(to);
    await waitFor(() => settings.current.leaving === undefined, 10_000, 'the leftovers removed');
    await settings.settled();
    expect(existsSync(old)).toBe(false);
    expect(JSON.parse(await readFile(settingsFile, 'utf8'))).toEqual({ root: to });
    expect(await next.hasCompleteCache()).toBe(true);
  });

  it('a copy left by a move that died before its switch is removed at the next start; the cache in use is untouched', async () => {
    const { s, c } = await syncedController();
    const root = c.root;
    const to = path.join(await tempRoot(), 'new-disk');
    const settingsFile = path.join(await tempRoot(), 'vm-cache-settings.json');
    const child = await runTsChild(MOVE_CHILD, [root, to, settingsFile, 'switching']).done;
    expect(child.code).toBeNull(); // SIGKILLed with its copy verified in <to>/.moving-*, the switch not made
    expect(existsSync(settingsFile)).toBe(false);
    expect((await readdir(to)).some((name) => name.startsWith('.moving-'))).toBe(true);

    const logger = recordingLogger();
    const next = await controllerFor(s, { settings: SettingsStore.load(settingsFile), root, logger });
    await waitFor(
      () => logger.lines.some((l) => l.text.includes('removed the copy an unfinished move left')),
      10_000,
      'the copy removed',
    );
    expect(existsSync(to)).toBe(false);
    expect(next.root).toBe(root);
    expect(await next.hasCompleteCache()).toBe(true);
    // And the next move from it goes ahead as if none had been tried.
    expect(await next.moveCache(async () => to)).toMatchObject({ moved: true, root: to });
  });

  it('on a disk that is not there now: kept in the settings file for a later start, and through another move', async () => {
    const { s, c } = await syncedController();
    const settingsFile = path.join(await tempRoot(), 'vm-cache-settings.json');
    const unplugged = path.join(await tempRoot(), 'media', 'usb', 'vm-cache');
    await writeFile(settingsFile, JSON.stringify({ root: c.root, leaving: unplugged }));
    const logger = recordingLogger();
    const settings = SettingsStore.load(settingsFile);
    await controllerFor(s, { settings, logger });
    await waitFor(() => logger.lines.some((l) => l.text.includes('not reachable now')), 5_000, 'the tidy');
    expect(settings.current.leaving).toEqual([unplugged]);
    // A move meanwhile adds its own old root beside it, never in its place, and takes only its own off.
    const next = await controllerFor(s, { settings });
    const picked = path.join(await tempRoot(), 'moved');
    await next.moveCache(async () => picked);
    expect(JSON.parse(await readFile(settingsFile, 'utf8'))).toEqual({ root: picked, leaving: [unplugged] });
  });

  it('never the cache in use, whatever a hand-edited file says', async () => {
    const { s, c } = await syncedController();
    const settingsFile = path.join(await tempRoot(), 'vm-cache-settings.json');
    await writeFile(settingsFile, JSON.stringify({ root: c.root, leaving: c.root }));
    const settings = SettingsStore.load(settingsFile);
    const next = await controllerFor(s, { settings });
    await waitFor(() => settings.current.leaving === undefined, 10_000, 'the record dropped');
    expect(await next.hasCompleteCache()).toBe(true);
  });
});
