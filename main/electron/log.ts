// electron-log for the plugin: its own instance and file (vm-cache.log beside
// the app's logs), so the host app's logger settings stay the host's. We do
// not call log.initialize(): that would inject electron-log's preload into
// every session, and our pages get window.vmCache and nothing else.
import log from 'electron-log/main';
import type { VmCacheLogger } from '../service/controller.js';

export interface VmCacheLog {
  logger: VmCacheLogger;
  /** Where the file transport writes; shown in settings. */
  logPath: string | null;
}

/**
 * The plugin's own log (what setupVmCache uses when given no `logger`): an
 * electron-log instance writing `fileName` beside the app's logs. For a host
 * that creates it itself, to pass it (and its path) on or to add lines of its own.
 */
export function createVmCacheLog(fileName = 'vm-cache.log'): VmCacheLog {
  const logger = log.create({ logId: 'vm-cache' });
  logger.transports.file.fileName = fileName;
  let logPath: string | null = null;
  try {
    logPath = logger.transports.file.getFile().path;
  } catch {
    // No resolvable log folder (unusual sandboxes): log to the console only, show no path.
  }
  return { logger, logPath };
}
