// A download the machine slept through wakes up on connections that are gone:
// without help it would sit until the stall timeout (30 s by default), then
// retry. On 'resume', a sync that was running at 'suspend' and still runs is
// cancelled and started again; the engine goes on from the bytes its partial
// file holds, so nothing is fetched twice.
import type { VmCacheController, VmCacheLogger } from '../service/controller.js';
import type { ElectronParts } from './types.js';

type Restartable = Pick<VmCacheController, 'syncing' | 'cancel' | 'prefetch'>;

/** Follows the machine's sleep; returns the undo. */
export function restartAfterSleep(
  powerMonitor: NonNullable<ElectronParts['powerMonitor']>,
  controller: Restartable,
  logger?: VmCacheLogger,
): () => void {
  let runningAtSuspend = false;
  let restarting = false;
  let stopped = false;
  const onSuspend = () => {
    // A second 'suspend' before a 'resume' must not forget the first's answer.
    runningAtSuspend ||= controller.syncing;
  };
  const onResume = () => {
    const wasRunning = runningAtSuspend;
    runningAtSuspend = false;
    // Only a sync that was running, and is still running: one that ended (or was paused) stays so.
    if (!wasRunning || !controller.syncing || restarting || stopped) return;
    restarting = true;
    logger?.info('the machine woke up during a sync: restarting it from the bytes it holds');
    controller
      .cancel()
      .then(() => {
        if (!stopped) controller.prefetch();
      })
      .catch(() => {})
      .finally(() => {
        restarting = false;
      });
  };
  powerMonitor.on('suspend', onSuspend);
  powerMonitor.on('resume', onResume);
  return () => {
    stopped = true;
    powerMonitor.removeListener('suspend', onSuspend);
    powerMonitor.removeListener('resume', onResume);
  };
}
