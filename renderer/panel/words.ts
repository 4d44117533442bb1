// Every word the panel (and the plugin's own two pages) shows, in one table.
// English is the reference; words-de.ts is German; a host overrides any part
// with the element's `words` property (docs/panel.md). Numbers reach these
// entries already formatted for the page's locale (format.ts), so a
// translation only arranges words around them. Error words in English are the
// contract's ERROR_WORDS, so the CLI and the panel never disagree.
import { ERROR_WORDS, type ErrorCode } from '../../contract/codes.js';
import type { SyncPhase } from '../../contract/progress.js';

/** The buttons, by the action they start. */
export type ButtonName =
  | 'download'
  | 'pause'
  | 'resume'
  | 'cancel'
  | 'retry'
  | 'checkAgain'
  | 'continue'
  | 'checkForUpdates'
  | 'verify'
  | 'clearCache'
  | 'keep'
  | 'moveCache';

export interface PanelWords {
  /** The language of these words (BCP 47): the panel's content carries it, so screen readers read them right. */
  lang: string;

  /** Headings: the first-run screen's and the settings section's. */
  firstRunTitle: string;
  settingsTitle: string;
  /** The line under the heading while a sync runs or after it ended. */
  phases: Record<SyncPhase, string>;
  /** That line for a paused sync (phase `cancelled`, `paused`): "Paused — 1.2 GB of 3.1 GB", received of total. */
  pausedAt: (done: string, total: string) => string;
  /** The same line before any sync has been seen. */
  checkingCache: string;
  notDownloadedYet: string;

  buttons: Record<ButtonName, string>;

  /** Size with its unit: `value` is the number in the page's locale, `unit` one of `units`. */
  size: (value: string, unit: string) => string;
  /** SI units, 1 kB = 1000 B (as download sizes are quoted). */
  units: { B: string; kB: string; MB: string; GB: string; TB: string };
  /** A transfer rate: "46.9 MB/s". */
  rate: (size: string) => string;
  /** "12.3 MB of 29.1 MB": received of total. */
  sizeOf: (done: string, total: string) => string;
  /** Time left: `duration` is "3 min 20 sec" in the page's locale. */
  timeLeft: (duration: string) => string;
  timeLeftUnknown: string;
  timeLeftUnderASecond: string;
  /** Said instead of the time left while a download waits for data. */
  stalledRetrying: string;
  /** Shown for a date or a size that is not known. */
  unknown: string;

  /** Accessible names of the bars and lists. */
  overallProgress: string;
  artifactProgress: (name: string) => string;
  /** A bar's aria-valuetext: "42 %, 12.3 MB of 29.1 MB". */
  progressValue: (percent: string, done: string, total: string) => string;
  imagesList: string;
  /** One image: "openclaw 2026.4.12 (x64)". */
  artifactName: (agent: string, version: string, arch: string) => string;

  /** One image's step, under its bar. */
  artifact: {
    notDownloaded: string;
    /** Stopped by Cancel or Pause with bytes kept: Retry or Resume goes on from there. */
    paused: string;
    /** Stopped by a failure with bytes kept. */
    stopped: string;
    queued: string;
    downloading: string;
    /** `attempt` is 2 or more, formatted. */
    downloadingAttempt: (attempt: string) => string;
    stalled: string;
    verifying: string;
    /** Followed by the first 12 hex digits of the sha256. */
    verified: string;
    failed: string;
  };
  /** A delta update: "Reused 2.70 GB from the cached version, downloading 310 MB". */
  deltaReuse: (reused: string, fetched: string, finished: boolean) => string;
  /** A delta that fell back to a whole download; `reason` is the engine's (English) explanation. */
  deltaWhole: (reason: string, finished: boolean) => string;

  /** The settings section's list of what is cached. */
  status: {
    version: string;
    published: string;
    sizeOnDisk: string;
    lastSync: string;
    logFile: string;
    emptyManifest: string;
    noImages: string;
    never: string;
    reading: string;
  };

  /** Verify: the summary, one line per image, and the list's name. */
  verify: {
    running: string;
    results: string;
    nothing: string;
    /** Every image intact; `count` formatted as `n`. */
    allIntact: (count: number, n: string) => string;
    someBad: (bad: number, count: number, badN: string, n: string) => string;
    ok: string;
    missing: string;
    corrupt: string;
    /** A corrupt image whose bad chunks are known: only they are fetched again. */
    corruptRanges: (badSize: string) => string;
  };

  /** The download speed limit setting. */
  limit: {
    label: string;
    hint: string;
    none: string;
    set: (rate: string) => string;
    removed: string;
  };

  /** "Download updates automatically": the launch sync, kept across launches. */
  autoUpdate: {
    label: string;
    hint: string;
    /** Announced when a change is in effect. */
    on: string;
    off: string;
  };

  /** Where the cache lives, and "Move cache to…". */
  location: {
    label: string;
    hint: string;
    /** Shown while the files are copied and checked. */
    moving: string;
    /** After a move: where to, and how much was moved. */
    moved: (path: string, size: string) => string;
    /** After Cancel during a move: where the cache still is. */
    cancelled: (path: string) => string;
    /** A refused move (the engine's message, in English, says why beneath): where the cache stayed. */
    notMoved: (path: string) => string;
  };

  /** Clear cache asks first, in the panel. */
  confirmClear: {
    group: string;
    question: (size: string) => string;
  };

  /** Outcomes, shown and announced. */
  notices: {
    upToDate: string;
    downloaded: (count: number, n: string) => string;
    cleared: (size: string) => string;
    nothingToCancel: string;
    /** Announced when one image passes its sha256 check. */
    imageVerified: (name: string) => string;
  };

  /** One sentence a person can act on, per error code. */
  errors: Record<ErrorCode, string>;

  /**
   * Error states that say more than their code's sentence, and are said
   * instead of it (docs/panel.md, "Error states"). Sizes come formatted.
   */
  errorStates: {
    /**
     * ERR_DISK_FULL with the engine's figures: the download needs `needed`
     * free on `path`, which has `free`; `missing` is the difference.
     */
    diskFull: (needed: string, free: string, missing: string, path: string) => string;
    /** ERR_SIGNATURE while VM images are cached: nothing changed, they stay in use. `images` is `cachedImages`. */
    signatureCached: (images: string) => string;
    /** The image server could not be reached (ERR_MANIFEST_FETCH, ERR_NETWORK, ERR_TIMEOUT), images cached. */
    offlineCached: (images: string) => string;
    /** The same with nothing cached yet: the download needs a connection. */
    offlineEmpty: string;
    /**
     * The cached images, briefly: `names` lists them (in the locale's list
     * form) when `count` is 3 or fewer; `n` is `count` formatted; `size` their total.
     */
    cachedImages: (count: number, n: string, names: string, size: string) => string;
  };

  /** The plugin's own first-run and settings pages, around the panel. */
  pages: {
    firstRunTitle: string;
    firstRunHeading: string;
    firstRunLead: string;
    settingsTitle: string;
    settingsHeading: string;
    settingsLead: string;
  };
}

export const ENGLISH_WORDS: PanelWords = {
  lang: 'en',

  firstRunTitle: 'Setting up VM images',
  settingsTitle: 'VM images',
  phases: {
    checking: 'Checking for updates…',
    'waiting-for-lock': 'Waiting for another app instance to finish…',
    downloading: 'Downloading VM images…',
    verifying: 'Verifying downloads…',
    finalizing: 'Finalizing…',
    done: 'VM images are ready.',
    failed: 'Download failed.',
    cancelled: 'Download cancelled.',
  },
  pausedAt: (done, total) => `Paused — ${done} of ${total}`,
  checkingCache: 'Checking the VM image cache…',
  notDownloadedYet: 'The VM images have not been downloaded yet.',

  buttons: {
    download: 'Download',
    pause: 'Pause',
    resume: 'Resume',
    cancel: 'Cancel',
    retry: 'Retry',
    checkAgain: 'Check again',
    continue: 'Continue',
    checkForUpdates: 'Check for updates',
    verify: 'Verify',
    clearCache: 'Clear cache',
    keep: 'Keep',
    moveCache: 'Move cache to…',
  },

  size: (value, unit) => `${value} ${unit}`,
  units: { B: 'B', kB: 'kB', MB: 'MB', GB: 'GB', TB: 'TB' },
  rate: (size) => `${size}/s`,
  sizeOf: (done, total) => `${done} of ${total}`,
  timeLeft: (duration) => `${duration} left`,
  timeLeftUnknown: 'estimating…',
  timeLeftUnderASecond: 'less than a second left',
  stalledRetrying: 'stalled, retrying',
  unknown: '—',

  overallProgress: 'Overall download progress',
  artifactProgress: (name) => `${name} download`,
  progressValue: (percent, done, total) => `${percent}, ${done} of ${total}`,
  imagesList: 'VM images',
  artifactName: (agent, version, arch) => `${agent} ${version} (${arch})`,

  artifact: {
    notDownloaded: 'Not downloaded',
    paused: 'Paused',
    stopped: 'Stopped',
    queued: 'Waiting to download',
    downloading: 'Downloading',
    downloadingAttempt: (attempt) => `Downloading (attempt ${attempt})`,
    stalled: 'Stalled, waiting for data…',
    verifying: 'Verifying sha256…',
    verified: 'sha256 verified',
    failed: 'Failed',
  },
  deltaReuse: (reused, fetched, finished) =>
    `Reused ${reused} from the cached version, ${finished ? 'downloaded' : 'downloading'} ${fetched}`,
  deltaWhole: (reason, finished) => `${finished ? 'Downloaded' : 'Downloading'} whole: ${reason}`,

  status: {
    version: 'Version',
    published: 'Published',
    sizeOnDisk: 'Size on disk',
    lastSync: 'Last successful sync',
    logFile: 'Log file',
    emptyManifest: 'Empty manifest',
    noImages: 'No VM images cached',
    never: 'Never',
    reading: 'Reading the cache…',
  },

  verify: {
    running: 'Verifying sha256 of every cached image…',
    results: 'Verify results',
    nothing: 'Nothing to verify: no VM images are cached.',
    allIntact: (count, n) =>
      count === 1 ? 'Verified: the VM image is intact.' : `Verified: all ${n} VM images are intact.`,
    someBad: (_bad, _count, badN, n) => `Verified: ${badN} of ${n} VM images need downloading again.`,
    ok: 'ok',
    missing: 'missing: Check for updates downloads it',
    corrupt: 'corrupt: removed, Check for updates downloads it again',
    corruptRanges: (badSize) => `corrupt: ${badSize} bad, Check for updates fetches only that`,
  },

  limit: {
    label: 'Download speed limit',
    hint: 'Applies at once, also to a download in progress.',
    none: 'No limit',
    set: (rate) => `Download speed limit set to ${rate}.`,
    removed: 'Download speed limit removed.',
  },

  autoUpdate: {
    label: 'Download updates automatically',
    hint: 'When the app starts, it looks for new VM images and downloads them in the background.',
    on: 'Updates download automatically.',
    off: 'Updates download only when you check for them.',
  },

  location: {
    label: 'Location',
    hint: 'The VM images need several GB. You can move them to another folder or disk.',
    moving: 'Moving the VM images and checking every file… This can take a few minutes.',
    moved: (path, size) => `Moved ${size} to ${path}.`,
    cancelled: (path) => `Move cancelled. The VM images stay in ${path}.`,
    notMoved: (path) => `The VM images were not moved and stay in ${path}. Choose another folder:`,
  },

  confirmClear: {
    group: 'Confirm clearing the cache',
    question: (size) => `Clear ${size}?`,
  },

  notices: {
    upToDate: 'Up to date.',
    downloaded: (count, n) => `Downloaded ${n} VM image${count === 1 ? '' : 's'}.`,
    cleared: (size) => `Cache cleared: ${size} freed.`,
    nothingToCancel: 'Nothing to cancel.',
    imageVerified: (name) => `${name}: sha256 verified.`,
  },

  errors: ERROR_WORDS,

  errorStates: {
    diskFull: (needed, free, missing, path) =>
      `Not enough disk space: the VM images need ${needed} free on ${path}, which has ${free}. Free at least ${missing} there, then press Retry.`,
    signatureCached: (images) =>
      `The manifest’s signature does not match the publisher’s key, so it was refused and nothing was changed. The app keeps using the VM images it has: ${images}.`,
    offlineCached: (images) =>
      `Could not reach the image server. The app keeps working with the VM images it has: ${images}. Retry looks for updates once you are online.`,
    offlineEmpty:
      'Could not reach the image server. The download needs an internet connection; once you are online, Retry resumes it where it stopped.',
    cachedImages: (count, n, names, size) =>
      count > 3
        ? `${n} images, ${size} in all`
        : count === 1
          ? `${names}, ${size}`
          : `${names}, ${size} in all`,
  },

  pages: {
    firstRunTitle: 'Setting up VM images',
    firstRunHeading: 'Welcome',
    firstRunLead:
      'The app needs its VM images before it can run agents. This happens once; later updates download in the background.',
    settingsTitle: 'Settings',
    settingsHeading: 'Settings',
    settingsLead: 'VM images used to run agents: what is cached, and how to repair it.',
  },
};
