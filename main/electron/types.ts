// The slice of Electron this plugin touches, as types only. setup.ts takes it
// as a parameter, so the wiring runs in plain Node tests with stand-ins for
// these objects (and nothing else), while index.ts passes the real modules.
import type {
  App,
  BrowserWindow,
  BrowserWindowConstructorOptions,
  IpcMain,
  Net,
  Protocol,
  Session,
} from 'electron';

export interface ElectronParts {
  app: Pick<App, 'whenReady' | 'isReady' | 'getPath' | 'getAppPath' | 'isPackaged'>;
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  /** Downloads go through net.request (see net-request-fetch.ts). */
  net: Pick<Net, 'request'>;
  /** Only for making the pages' scheme privileged before 'ready'; each session serves it (session.protocol). */
  protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>;
  session: { fromPartition(partition: string): Session };
}
