// OS notifications through Electron's Notification, when the system has them.
// Each is kept referenced until it is clicked or closed: a notification that
// is garbage-collected loses its click handler.
import type { Notification } from 'electron';
import type { ElectronParts } from './types.js';

export class DesktopNotifier {
  private readonly live = new Set<Notification>();
  private disposed = false;

  constructor(private readonly NotificationClass: ElectronParts['Notification']) {}

  /** Shows a notification; `onClick` runs when the user clicks it. False when none can be shown. */
  show(title: string, body: string, onClick?: () => void): boolean {
    const OsNotification = this.NotificationClass;
    if (this.disposed || !OsNotification || !OsNotification.isSupported()) return false;
    const note = new OsNotification({ title, body });
    this.live.add(note);
    const forget = () => this.live.delete(note);
    note.on('click', () => {
      forget();
      if (!this.disposed) onClick?.();
    });
    note.on('close', forget);
    note.on('failed', forget);
    note.show();
    return true;
  }

  /** Clicks no longer do anything; what is on screen stays (it is still true). */
  dispose(): void {
    this.disposed = true;
    this.live.clear();
  }
}
