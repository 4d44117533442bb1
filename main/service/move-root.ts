// "Move cache to…" for an app: the engine moves the files (copy, verify,
// then delete: moveVmCache), and this records the switch in the settings file
// at the one moment both places hold a complete cache. The record names the
// new root and the old one still to be removed, so a crash after the switch
// still gets the old files removed at the next start (tidyAfterMoves).
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

import { discardUnfinishedMove, moveVmCache, removeMovedVmCache } from '../engine/index.js';
import type { SettingsStore } from './settings.js';

/** The folder a picked folder's cache goes to: the folder itself when empty, else `vm-cache` inside it. */
export async function targetRootFor(picked: string): Promise<string> {
  const folder = path.resolve(picked);
  try {
    const entries = await fs.readdir(folder);
    if (entries.length === 0) return folder;
  } catch (err) {
    // A folder that does not exist yet is made by the move; a file is the engine's to refuse, as itself.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return folder;
  }
  return path.join(folder, 'vm-cache');
}

/** The controller's logger, as much of it as a move uses. */
interface MoveLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
}

export interface MoveOutcome {
  root: string;
  movedBytes: number;
}

export async function moveRoot(o: {
  from: string;
  picked: string;
  settings: SettingsStore;
  logger: MoveLogger;
  /** Points the app at `to`; called once the copy there is complete and verified. */
  switchTo: (to: string) => void;
  /** Cancels the move before its switch. */
  signal?: AbortSignal;
}): Promise<MoveOutcome> {
  const to = await targetRootFor(o.picked);
  o.logger.info(`moving the cache: ${o.from} -> ${to}`);
  const result = await moveVmCache({
    from: o.from,
    to,
    ...(o.signal ? { signal: o.signal } : {}),
    // Another process holds the cache (a sync in another window, the CLI): say why nothing happens yet.
    onWaitForLock: () => o.logger.info('the move waits for another process that is using the cache'),
    switchRoot: async (newRoot) => {
      // Durable before a byte of the old cache goes: from here the next start uses the new root.
      // Added to any old root an earlier move could not remove yet, never in its place.
      const earlier = (o.settings.current.leaving ?? []).filter((p) => p !== o.from);
      await o.settings.update({ root: newRoot, leaving: [...earlier, o.from] });
      o.switchTo(newRoot);
    },
  });
  if (result.leftover) {
    // Still named in the settings file: the next start removes them (removeLeftRoot).
    o.logger.warn(`the cache moved, but some of its old files stay at ${o.from}: ${result.leftover.message}`);
  } else {
    // The old files are gone: nothing is left to remove at the next start.
    const rest = (o.settings.current.leaving ?? []).filter((p) => p !== o.from);
    await o.settings.update({ leaving: rest.length > 0 ? rest : undefined }).catch((err: unknown) => {
      o.logger.warn(`the settings file could not be updated after the move: ${String(err)}`);
    });
  }
  o.logger.info(`cache moved to ${result.root}: ${result.movedBytes} bytes`);
  return { root: result.root, movedBytes: result.movedBytes };
}

/**
 * At start: what a move that died left behind. Before its switch, its copy at
 * the new place (the cache in use is still whole, at `inUse`); after it, the
 * old files at each root in `leaving`, which the settings file names until
 * they are gone.
 * Failures are logged and tried again at the next start.
 */
export async function tidyAfterMoves(
  settings: SettingsStore,
  inUse: string,
  logger: MoveLogger,
): Promise<void> {
  try {
    const discarded = await discardUnfinishedMove(inUse);
    if (discarded) logger.info(`removed the copy an unfinished move left at ${discarded}`);
  } catch (err) {
    logger.warn(`could not remove the copy an unfinished move left: ${String(err)}`);
  }
  for (const leaving of settings.current.leaving ?? []) {
    if (await removeLeftRoot(leaving, inUse, logger)) {
      const rest = (settings.current.leaving ?? []).filter((p) => p !== leaving);
      await settings.update({ leaving: rest.length > 0 ? rest : undefined }).catch(() => {});
    }
  }
}

/** Removes what a move left at `leaving`; true when nothing is left there to remember. */
async function removeLeftRoot(leaving: string, inUse: string, logger: MoveLogger): Promise<boolean> {
  // Never the cache in use: a settings file edited by hand could name it.
  if (path.resolve(leaving) === path.resolve(inUse)) return true;
  // On a disk that is not there now (unplugged, not mounted yet): kept, for a start that finds it.
  if (!existsSync(path.dirname(leaving))) {
    logger.info(`what a move left at ${leaving} is not reachable now; it is removed at a later start`);
    return false;
  }
  try {
    await removeMovedVmCache({ from: leaving });
    logger.info(`removed what a move left at ${leaving}`);
    return true;
  } catch (err) {
    // Kept in the file: the next start tries again.
    logger.warn(`could not remove what a move left at ${leaving}: ${String(err)}`);
    return false;
  }
}
