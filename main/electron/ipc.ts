// ipcMain as a transport for the hub: one handler per INVOKE channel, each
// turning Electron's event into the hub's transport-neutral SenderInfo.
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import { INVOKE, type InvokeName } from '../../contract/api.js';
import type { SenderInfo, VmCacheHub } from '../service/hub.js';
import type { ElectronParts } from './types.js';

export const INVOKE_CHANNELS: readonly string[] = (Object.keys(INVOKE) as InvokeName[]).map(
  (n) => INVOKE[n].channel,
);

/**
 * The frame that sent the message, not just the webContents: a subframe of
 * our window (or a frame that has since navigated, whose senderFrame is
 * null) must not pass for the page.
 */
export function senderInfoOf(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>): SenderInfo {
  const frame = event.senderFrame;
  return {
    id: event.sender.id,
    url: frame?.url ?? '',
    isMainFrame: frame !== null && frame === event.sender.mainFrame,
  };
}

/** Sends to the window while it lives; throwing tells the hub to drop a receiver that is gone. */
export function sendTo(contents: WebContents): (channel: string, payload: unknown) => void {
  return (channel, payload) => {
    if (contents.isDestroyed()) throw new Error('webContents destroyed');
    contents.send(channel, payload);
  };
}

/** Registers every channel (replacing a handler left by an earlier setup); returns the undo. */
export function registerIpc(ipcMain: ElectronParts['ipcMain'], hub: VmCacheHub): () => void {
  for (const channel of INVOKE_CHANNELS) {
    // handle() throws if the channel already has a handler (a second setup, a dev reload).
    ipcMain.removeHandler(channel);
    ipcMain.handle(channel, (event, ...args: unknown[]) =>
      hub.invoke(channel, args, senderInfoOf(event), sendTo(event.sender)),
    );
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel);
  };
}
