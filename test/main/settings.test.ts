// The settings file: the user's choices (autoUpdate, the cap) kept across a
// restart of the controller, and a garbage file that loses nothing: the host's
// defaults apply and the next change replaces it.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INVOKE } from '../../contract/api.js';
import { VmCacheHub } from '../../main/service/hub.js';
import { SettingsStore } from '../../main/service/settings.js';
import { oneArtifactServer, tempRoot } from '../helpers.js';
import { controllerFor, recordingLogger, sender } from './support.js';

const noSend = () => {};

async function settingsFile(content?: string): Promise<string> {
  const file = path.join(await tempRoot(), 'vm-cache-settings.json');
  if (content !== undefined) await fs.writeFile(file, content);
  return file;
}

describe('settings kept across launches', () => {
  it('autoUpdate and the cap set over the hub are in the file, and a new controller on it starts with them', async () => {
    const s = await oneArtifactServer();
    const file = await settingsFile();
    const settings = SettingsStore.load(file);
    const first = await controllerFor(s, { settings, limitRate: 8 << 20 });
    const hub = new VmCacheHub({ controller: first, isAllowedSender: () => true });
    const call = (name: 'getSettings' | 'setAutoUpdate' | 'setLimitRate', ...args: unknown[]) =>
      hub.invoke(INVOKE[name].channel, args, sender(1), noSend);

    expect(await call('getSettings')).toEqual({ ok: true, value: { autoUpdate: true, canMoveCache: false } });
    expect(await call('setAutoUpdate', false)).toEqual({
      ok: true,
      value: { autoUpdate: false, canMoveCache: false },
    });
    // "No limit" chosen by the user overrides the host's 8 MiB/s default next time too.
    await call('setLimitRate', null);
    await settings.settled(); // the cap is saved in the background
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ autoUpdate: false, limitRate: null });

    const again = await controllerFor(s, {
      settings: SettingsStore.load(file),
      limitRate: 8 << 20,
      autoUpdate: true,
    });
    expect(again.autoUpdate).toBe(false);
    expect(again.limitRate).toBeUndefined();
    const againSettings = SettingsStore.load(file);
    const changer = await controllerFor(s, { settings: againSettings });
    await changer.setAutoUpdate(true);
    changer.setLimitRate(64 << 10);
    await againSettings.settled();
    const third = await controllerFor(s, { settings: SettingsStore.load(file) });
    expect(SettingsStore.load(file).current).toEqual({ autoUpdate: true, limitRate: 64 << 10 });
    expect(third.autoUpdate).toBe(true);
    expect(third.limitRate).toBe(64 << 10);
    hub.dispose();
  });

  it('without a choice the host’s default decides (prefetchOnReady false: no launch sync)', async () => {
    const s = await oneArtifactServer();
    const c = await controllerFor(s, {
      settings: SettingsStore.load(await settingsFile()),
      autoUpdate: false,
    });
    expect(c.autoUpdate).toBe(false);
  });

  it('a file that is garbage, hostile or unreadable counts as no choice, says so, and is replaced by the next change', async () => {
    const bad = [
      'not json {',
      '[]',
      'null',
      JSON.stringify({ root: 'relative/path' }),
      JSON.stringify({ autoUpdate: 'yes' }),
      JSON.stringify({ limitRate: 10 }),
      JSON.stringify({ leaving: 42 }),
    ];
    for (const content of bad) {
      const file = await settingsFile(content);
      const logger = recordingLogger();
      const store = SettingsStore.load(file, logger);
      expect(store.current, content).toEqual({});
      expect(logger.lines.map((l) => l.text).join('\n'), content).toMatch(/settings file .* is not valid/);
      await store.update({ autoUpdate: false });
      expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ autoUpdate: false });
    }
    // A folder where the file should be: read fails (not ENOENT), the defaults apply, the write then fails loudly.
    const dir = await settingsFile();
    await fs.mkdir(dir);
    const logger = recordingLogger();
    const store = SettingsStore.load(dir, logger);
    expect(store.current).toEqual({});
    expect(logger.lines[0]?.text).toMatch(/cannot read the settings file/);
    await expect(store.update({ autoUpdate: true })).rejects.toThrow();
    // A missing file is the normal first launch: nothing said.
    const quiet = recordingLogger();
    expect(SettingsStore.load(await settingsFile(), quiet).current).toEqual({});
    expect(quiet.lines).toEqual([]);
  });

  it('one bad field is one default: the others, where the cache moved first of all, are kept, and unknown fields too', async () => {
    const root = path.join(await tempRoot(), 'moved');
    const file = await settingsFile(
      JSON.stringify({ root, autoUpdate: 'yes', limitRate: 512, fromNewerVersion: [1] }),
    );
    const logger = recordingLogger();
    const store = SettingsStore.load(file, logger);
    expect(store.current).toEqual({ root });
    expect(logger.lines[0]?.text).toMatch(/autoUpdate, limitRate not valid/);
    await store.update({ autoUpdate: false });
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({
      root,
      autoUpdate: false,
      fromNewerVersion: [1],
    });
  });

  it('a change that cannot be saved is not in effect, and a later change does not save it by the way', async () => {
    const dir = await tempRoot();
    const file = path.join(dir, 'vm-cache-settings.json');
    const store = SettingsStore.load(file);
    await store.update({ autoUpdate: true });
    // The folder goes read-only in effect: a folder where the temp file's rename must land.
    await fs.rm(file);
    await fs.mkdir(file);
    await expect(store.update({ root: path.join(dir, 'elsewhere') })).rejects.toThrow();
    expect(store.current.root).toBeUndefined();
    await fs.rmdir(file);
    await store.update({ limitRate: 4096 });
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ limitRate: 4096 });
  });

  it('two instances on one file keep each other’s changes (one moves the cache, the other sets the cap)', async () => {
    const file = await settingsFile();
    const first = SettingsStore.load(file);
    const second = SettingsStore.load(file);
    const root = path.join(await tempRoot(), 'moved');
    await first.update({ root });
    await second.update({ limitRate: 8192 });
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ root, limitRate: 8192 });
    expect(second.current).toEqual({ root, limitRate: 8192 });
  });

  it('a FIFO or a link at the file’s place never hangs the start: the defaults apply', async () => {
    const fifo = await settingsFile();
    execFileSync('mkfifo', [fifo]);
    const logger = recordingLogger();
    expect(SettingsStore.load(fifo, logger).current).toEqual({});
    expect(logger.lines[0]?.text).toMatch(/not a regular file/);
    const target = await settingsFile(JSON.stringify({ autoUpdate: false }));
    const link = await settingsFile();
    await fs.symlink(target, link);
    expect(SettingsStore.load(link, recordingLogger()).current).toEqual({});
  });

  it('changes made one after another land in order: the file ends with the last', async () => {
    const file = await settingsFile();
    const store = SettingsStore.load(file);
    const writes = [];
    for (let i = 0; i < 20; i++)
      writes.push(store.update({ autoUpdate: i % 2 === 0, limitRate: 1024 * (i + 1) }));
    await Promise.all(writes);
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ autoUpdate: false, limitRate: 1024 * 20 });
  });
});
