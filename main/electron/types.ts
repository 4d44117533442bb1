// The slice of Electron this plugin touches, as types only. setup.ts takes it
// as a parameter, so the wiring runs in plain Node tests with stand-ins for
// these objects (and nothing else), while index.ts passes the real modules.
import type {
  App,
  BrowserWindow,
  BrowserWindowConstructorOptions,
  Dialog,
  IpcMain,
  Net,
  Notification,
  NotificationConstructorOptions,
  PowerMonitor,
  Protocol,
  Session,
} from 'electron';

export interface ElectronParts {
  /**
   * `on`/`removeListener` (optional) only to hear 'before-quit': a window
   * closing because the app quits is not asked about or announced.
   */
  app: Pick<App, 'whenReady' | 'isReady' | 'getPath' | 'getAppPath' | 'isPackaged'> &
    Partial<Pick<App, 'on' | 'removeListener'>>;
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  /** `fromWebContents` (optional): a host window registered by its webContents gets the taskbar progress too. */
  BrowserWindow: (new (
    options: BrowserWindowConstructorOptions,
  ) => BrowserWindow) &
    Partial<Pick<typeof BrowserWindow, 'fromWebContents'>>;
  /** Downloads go through net.request (see net-request-fetch.ts). */
  net: Pick<Net, 'request'>;
  /** Only for making the pages' scheme privileged before 'ready'; each session serves it (session.protocol). */
  protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>;
  session: { fromPartition(partition: string): Session };
  // The parts below are optional, so a host's stand-ins from before them still
  // fit: without one, what needs it is left out (see background.ts).
  /** OS notifications: images ready, download needs attention, downloading in the background. */
  Notification?: (new (
    options?: NotificationConstructorOptions,
  ) => Notification) &
    Pick<typeof Notification, 'isSupported'>;
  /** 'suspend' and 'resume': a download running when the machine slept is restarted when it wakes. */
  powerMonitor?: Pick<PowerMonitor, 'on' | 'removeListener'>;
  /** The question of `firstRunClose: 'ask'`; showOpenDialog is the folder picker of "Move cache to…". */
  dialog?: Pick<Dialog, 'showMessageBox'> & Partial<Pick<Dialog, 'showOpenDialog'>>;
}
