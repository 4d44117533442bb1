// Closing the first-run window while the images download does not stop the
// download (closing a window never did: only quitting the app does). What
// changes is what the user is told: with 'continue', the window closes and a
// notification says, once per run, that the download goes on; with 'ask', a
// dialog on the window offers to continue in the background or to stop.
import type { BrowserWindow, Event as ElectronEvent } from 'electron';
import type { DesktopWords } from './desktop-words.js';
import type { ElectronParts } from './types.js';

export type FirstRunClose = 'continue' | 'ask';

/**
 * How long after the window has closed the 'continue' notice waits: a host
 * that quits when its last window closes ('window-all-closed') has quit by
 * then, and a download that ends with the app needs no notice.
 */
export const NOTICE_DELAY_MS = 300;

export interface FirstRunCloseDeps {
  mode: FirstRunClose;
  /** The dialog for 'ask'; without one, 'ask' acts as 'continue'. */
  dialog: ElectronParts['dialog'];
  words: DesktopWords;
  /** A sync runs (closing the window now leaves it running). */
  downloading(): boolean;
  /** The app is quitting, or setup has been disposed: nothing is asked or announced. */
  leaving(): boolean;
  /** Stops the sync (its partial is kept) and resolves when it has let go. */
  stop(): Promise<unknown>;
  /** Tells the user the download goes on in the background (once per run: the caller keeps count). */
  announce(): void;
}

export function guardFirstRunClose(win: BrowserWindow, deps: FirstRunCloseDeps): void {
  const { dialog } = deps;
  let asking = false;
  let answered = false;
  let leftRunning = false;
  win.on('close', (event: ElectronEvent) => {
    if (answered || deps.leaving() || !deps.downloading()) return;
    if (deps.mode === 'continue' || !dialog) {
      leftRunning = true;
      return;
    }
    // Closes once the user has answered; a second click on close meanwhile asks nothing more.
    event.preventDefault();
    if (asking) return;
    asking = true;
    const { words } = deps;
    dialog
      .showMessageBox(win, {
        type: 'question',
        message: words.askMessage,
        detail: words.askDetail,
        buttons: [words.continueButton, words.stopButton],
        defaultId: 0,
        // Escape (and closing the dialog) leaves the download running: the choice that loses nothing.
        cancelId: 0,
        noLink: true,
      })
      .then(
        async ({ response }) => {
          if (response === 1 && deps.downloading()) await deps.stop();
        },
        () => {
          // No dialog could be shown: the window still closes, and the download goes on.
        },
      )
      .catch(() => {})
      .finally(() => {
        asking = false;
        answered = true;
        if (!win.isDestroyed()) win.close();
      });
  });
  win.on('closed', () => {
    if (!leftRunning) return;
    setTimeout(() => {
      if (!deps.leaving() && deps.downloading()) deps.announce();
    }, NOTICE_DELAY_MS);
  });
}
