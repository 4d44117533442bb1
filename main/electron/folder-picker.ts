// The folder picker of "Move cache to…": Electron's own dialog, shown by the
// main process, so the path always comes from the user and never from a page.
import type { BrowserWindow } from 'electron';
import type { DesktopWords } from './desktop-words.js';
import type { ElectronParts } from './types.js';

/** undefined when the host's dialog has no showOpenDialog (an older stand-in): moving is then not offered. */
export function folderPicker(
  dialog: ElectronParts['dialog'],
  words: Pick<DesktopWords, 'moveTitle' | 'moveButton'>,
  /** The window of the page that asked (by its webContents id), if known. */
  parent: (senderId: number) => BrowserWindow | undefined,
): ((senderId: number) => Promise<string | null>) | undefined {
  const show = dialog?.showOpenDialog?.bind(dialog);
  if (!show) return undefined;
  return async (senderId) => {
    const options = {
      title: words.moveTitle,
      buttonLabel: words.moveButton,
      // createDirectory: macOS's "New Folder"; promptToCreate: Windows offers to make a typed-in one.
      properties: ['openDirectory', 'createDirectory', 'promptToCreate'] as Array<
        'openDirectory' | 'createDirectory' | 'promptToCreate'
      >,
    };
    const window = parent(senderId);
    // Sheet-modal to the window that asked when there is one, so it cannot be lost behind it.
    const answer = window && !window.isDestroyed() ? await show(window, options) : await show(options);
    return answer.canceled ? null : (answer.filePaths[0] ?? null);
  };
}
