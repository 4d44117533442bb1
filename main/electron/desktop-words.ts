// What the plugin says outside its pages: the OS notifications, the dialog
// shown when the first-run window closes during a download and the folder
// picker of "Move cache to…". English by
// default; a host passes its own words (setup's `desktopWords`), all or some.

export interface DesktopWords {
  /** Notification: a download finished and the images are verified. */
  readyTitle: string;
  readyBody: string;
  /** Notification: a download failed (retries spent, or a failure retrying cannot mend). */
  failedTitle: string;
  failedBody: string;
  /** Notification, once per run: the first-run window closed and the download goes on. */
  backgroundTitle: string;
  backgroundBody: string;
  /** The dialog of `firstRunClose: 'ask'`. */
  askMessage: string;
  askDetail: string;
  /** Its first button (also what Escape answers): the window closes, the download goes on. */
  continueButton: string;
  /** Its second button: the download stops (what it holds is kept) and the window closes. */
  stopButton: string;
  /** The folder picker of "Move cache to…": its title and its confirm button. */
  moveTitle: string;
  moveButton: string;
}

export const DEFAULT_DESKTOP_WORDS: Readonly<DesktopWords> = Object.freeze({
  readyTitle: 'VM images are ready',
  readyBody: 'The download has finished and the images are verified.',
  failedTitle: 'VM image download needs attention',
  failedBody: 'The download has stopped. Open the VM image settings to see why and try again.',
  backgroundTitle: 'Downloading in the background',
  backgroundBody: 'The VM images keep downloading. You will get a notification when they are ready.',
  askMessage: 'The VM images are still downloading.',
  askDetail:
    'The download can go on in the background, and you will get a notification when it is done. ' +
    'If you stop it, what has arrived is kept and the next download goes on from there.',
  continueButton: 'Continue in Background',
  stopButton: 'Stop Download',
  moveTitle: 'Move VM images to…',
  moveButton: 'Move Here',
});

/** The defaults with the host's words over them; a word that is not a non-empty string is ignored. */
export function desktopWords(overrides: Partial<DesktopWords> = {}): DesktopWords {
  const words: DesktopWords = { ...DEFAULT_DESKTOP_WORDS };
  for (const name of Object.keys(DEFAULT_DESKTOP_WORDS) as Array<keyof DesktopWords>) {
    const word: unknown = overrides[name];
    if (typeof word === 'string' && word.trim() !== '') words[name] = word;
  }
  return words;
}
