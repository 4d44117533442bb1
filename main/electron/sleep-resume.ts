// A download the machine slept through wakes up on connections that are gone:
// without help it would sit until the stall timeout (30 s by default), then
// retry. So a sync running at 'suspend' is paused (its connections closed,
// its lock let go, its partial kept; the panel and the taskbar say "paused"
// while the machine sleeps), and resumed at 'resume' from the bytes its
// partial holds. The pause aborts the sync's connections, dead or not, and
// waits until it has let go, so a late 'suspend' needs nothing more.
import type { VmCacheController, VmCacheLogger } from '../service/controller.js';
import type { ElectronParts } from './types.js';

type Restartable = Pick<VmCacheController, 'syncing' | 'pause' | 'resume'>;

/** Follows the machine's sleep; returns the undo. */
export function restartAfterSleep(
  powerMonitor: NonNullable<ElectronParts['powerMonitor']>,
  controller: Restartable,
  logger?: VmCacheLogger,
): () => void {
  /** The pause this follower made at 'suspend' (true when a sync was paused), until 'resume' answers it. */
  let pausedAtSuspend: Promise<boolean> | undefined;
  let restarting = false;
  let stopped = false;
  const onSuspend = () => {
    // A second 'suspend' before a 'resume' keeps the first's pause; a sync that is not running is left alone.
    if (pausedAtSuspend || !controller.syncing) return;
    logger?.info('the machine is going to sleep: pausing the download');
    // For this run only: an app that never hears 'resume' (killed asleep) must not start up paused.
    pausedAtSuspend = controller.pause({ lasting: false }).then(
      (r) => r.paused,
      () => false,
    );
  };
  const onResume = () => {
    const pausing = pausedAtSuspend;
    pausedAtSuspend = undefined;
    if (!pausing || restarting || stopped) return;
    restarting = true;
    pausing
      .then((paused) => {
        // Nothing was running by the time the pause came: nothing to go on with. (A sync someone
        // started since is joined by resume(), not started twice.)
        if (!paused || stopped) return;
        logger?.info('the machine woke up during a sync: resuming it from the bytes it holds');
        controller.resume().catch(() => {});
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
