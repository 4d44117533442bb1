// The panel in German: every entry of the English table, written for German
// readers rather than word for word ("Sie", German quotation marks, a
// non-breaking space between a number and its unit). Typed as the whole
// table, so a word added in English does not compile until it is here too.
import type { PanelWords } from './words.js';

export const GERMAN_WORDS: PanelWords = {
  lang: 'de',

  firstRunTitle: 'VM-Images werden eingerichtet',
  settingsTitle: 'VM-Images',
  phases: {
    checking: 'Suche nach Updates …',
    'waiting-for-lock': 'Warte, bis eine andere Instanz der App fertig ist …',
    downloading: 'VM-Images werden heruntergeladen …',
    verifying: 'Downloads werden geprüft …',
    finalizing: 'Wird abgeschlossen …',
    done: 'Die VM-Images sind bereit.',
    failed: 'Download fehlgeschlagen.',
    cancelled: 'Download abgebrochen.',
  },
  pausedAt: (done, total) => `Angehalten – ${done} von ${total}`,
  checkingCache: 'Der Cache der VM-Images wird geprüft …',
  notDownloadedYet: 'Die VM-Images wurden noch nicht heruntergeladen.',

  buttons: {
    download: 'Herunterladen',
    pause: 'Anhalten',
    resume: 'Fortsetzen',
    cancel: 'Abbrechen',
    retry: 'Erneut versuchen',
    checkAgain: 'Erneut prüfen',
    continue: 'Weiter',
    checkForUpdates: 'Nach Updates suchen',
    verify: 'Prüfen',
    clearCache: 'Cache leeren',
    keep: 'Behalten',
    moveCache: 'Cache verschieben …',
  },

  size: (value, unit) => `${value}\u00a0${unit}`,
  units: { B: 'B', kB: 'kB', MB: 'MB', GB: 'GB', TB: 'TB' },
  rate: (size) => `${size}/s`,
  sizeOf: (done, total) => `${done} von ${total}`,
  timeLeft: (duration) => `noch ${duration}`,
  timeLeftUnknown: 'Restzeit wird geschätzt …',
  timeLeftUnderASecond: 'noch weniger als eine Sekunde',
  stalledRetrying: 'stockt, neuer Versuch läuft',
  unknown: '—',

  overallProgress: 'Gesamtfortschritt des Downloads',
  artifactProgress: (name) => `Download von ${name}`,
  progressValue: (percent, done, total) => `${percent}, ${done} von ${total}`,
  imagesList: 'VM-Images',
  artifactName: (agent, version, arch) => `${agent} ${version} (${arch})`,

  artifact: {
    notDownloaded: 'Nicht heruntergeladen',
    paused: 'Angehalten',
    stopped: 'Unterbrochen',
    queued: 'Wartet auf den Download',
    downloading: 'Wird heruntergeladen',
    downloadingAttempt: (attempt) => `Wird heruntergeladen (${attempt}. Versuch)`,
    stalled: 'Stockt, warte auf Daten …',
    verifying: 'sha256 wird geprüft …',
    verified: 'sha256 geprüft',
    failed: 'Fehlgeschlagen',
  },
  deltaReuse: (reused, fetched, finished) =>
    `${reused} aus der vorhandenen Version übernommen, ${fetched} ${finished ? 'heruntergeladen' : 'werden heruntergeladen'}`,
  deltaWhole: (reason, finished) =>
    `${finished ? 'Vollständig heruntergeladen' : 'Wird vollständig heruntergeladen'}: ${reason}`,

  status: {
    version: 'Version',
    published: 'Veröffentlicht',
    sizeOnDisk: 'Belegter Speicherplatz',
    lastSync: 'Zuletzt erfolgreich aktualisiert',
    logFile: 'Protokolldatei',
    emptyManifest: 'Leeres Manifest',
    noImages: 'Keine VM-Images im Cache',
    never: 'Noch nie',
    reading: 'Cache wird gelesen …',
  },

  verify: {
    running: 'Die sha256-Prüfsumme jedes VM-Images im Cache wird geprüft …',
    results: 'Prüfergebnisse',
    nothing: 'Nichts zu prüfen: Es sind keine VM-Images im Cache.',
    allIntact: (count, n) =>
      count === 1 ? 'Geprüft: Das VM-Image ist intakt.' : `Geprüft: Alle ${n} VM-Images sind intakt.`,
    someBad: (bad, _count, badN, n) =>
      `Geprüft: ${badN} von ${n} VM-Images ${bad === 1 ? 'muss' : 'müssen'} neu heruntergeladen werden.`,
    ok: 'in Ordnung',
    missing: 'fehlt: „Nach Updates suchen“ lädt es herunter',
    corrupt: 'beschädigt: entfernt, „Nach Updates suchen“ lädt es neu herunter',
    corruptRanges: (badSize) => `beschädigt: ${badSize} fehlerhaft, „Nach Updates suchen“ lädt nur diese neu`,
  },

  limit: {
    label: 'Maximale Download-Geschwindigkeit',
    hint: 'Gilt sofort, auch für einen laufenden Download.',
    none: 'Unbegrenzt',
    set: (rate) => `Download-Geschwindigkeit auf ${rate} begrenzt.`,
    removed: 'Download-Geschwindigkeit nicht mehr begrenzt.',
  },

  autoUpdate: {
    label: 'Updates automatisch herunterladen',
    hint: 'Beim Start sucht die App nach neuen VM-Images und lädt sie im Hintergrund herunter.',
    on: 'Updates werden automatisch heruntergeladen.',
    off: 'Updates werden nur heruntergeladen, wenn Sie danach suchen.',
  },

  location: {
    label: 'Speicherort',
    hint: 'Die VM-Images belegen mehrere GB. Sie können sie in einen anderen Ordner oder auf ein anderes Laufwerk verschieben.',
    moving: 'Die VM-Images werden verschoben und jede Datei geprüft … Das kann einige Minuten dauern.',
    moved: (path, size) => `${size} nach ${path} verschoben.`,
    cancelled: (path) => `Verschieben abgebrochen. Die VM-Images bleiben in ${path}.`,
    notMoved: (path) =>
      `Die VM-Images wurden nicht verschoben und bleiben in ${path}. Wählen Sie einen anderen Ordner:`,
  },

  confirmClear: {
    group: 'Leeren des Caches bestätigen',
    question: (size) => `${size} löschen?`,
  },

  notices: {
    upToDate: 'Alles auf dem neuesten Stand.',
    downloaded: (count, n) => `${n} ${count === 1 ? 'VM-Image' : 'VM-Images'} heruntergeladen.`,
    cleared: (size) => `Cache geleert: ${size} freigegeben.`,
    nothingToCancel: 'Es läuft kein Download, der sich abbrechen ließe.',
    imageVerified: (name) => `${name}: sha256 geprüft.`,
  },

  errors: {
    ERR_MANIFEST_FETCH:
      'Der Image-Server ist nicht erreichbar. Prüfen Sie Ihre Internetverbindung und versuchen Sie es dann erneut.',
    ERR_MANIFEST_INVALID:
      'Der Image-Server hat ein Manifest veröffentlicht, das diese App nicht verwenden kann. Ihre vorhandenen Images bleiben unverändert; versuchen Sie es später noch einmal.',
    ERR_UNSAFE_KEY:
      'Das Manifest verweist auf eine Datei außerhalb des Caches. Es wurde abgelehnt; nichts wurde geschrieben.',
    ERR_UNSUPPORTED_ARCH: 'Für den Prozessortyp dieses Computers gibt es kein VM-Image.',
    ERR_INSECURE_URL:
      'Die Adresse des Image-Servers ist nicht sicher (http). Verwenden Sie eine https-Adresse.',
    ERR_DOWNLOAD_HTTP: 'Der Image-Server hat den Download verweigert. Versuchen Sie es später erneut.',
    ERR_NETWORK:
      'Die Verbindung ist abgebrochen. „Erneut versuchen“ setzt den Download dort fort, wo er stehen geblieben ist.',
    ERR_TIMEOUT:
      'Der Image-Server hat nicht rechtzeitig geantwortet. „Erneut versuchen“ setzt den Download fort.',
    ERR_STALLED:
      'Der Download ist ins Stocken geraten. „Erneut versuchen“ setzt ihn dort fort, wo er stehen geblieben ist.',
    ERR_SHA256_MISMATCH:
      'Ein heruntergeladenes Image passte nicht zu seiner Prüfsumme und wurde verworfen. „Erneut versuchen“ lädt es noch einmal herunter.',
    ERR_SIGNATURE:
      'Die Signatur des Manifests passt nicht zum Schlüssel des Herausgebers; es wurde abgelehnt. Es wurde nichts geändert; wenden Sie sich an den Herausgeber der App.',
    ERR_ROLLBACK:
      'Der Image-Server hat ein älteres Manifest angeboten als das, dem dieser Cache bereits vertraut. Es wurde abgelehnt; Ihre Images bleiben unverändert.',
    ERR_MANIFEST_EXPIRED:
      'Das Manifest des Image-Servers ist abgelaufen und wurde abgelehnt. Ihre Images bleiben unverändert; der Herausgeber muss ein neues veröffentlichen.',
    ERR_DISK_FULL:
      'Nicht genug freier Speicherplatz für die VM-Images. Geben Sie Speicherplatz frei und versuchen Sie es dann erneut.',
    ERR_IO:
      'In den Cache-Ordner lässt sich nicht schreiben. Prüfen Sie seine Zugriffsrechte und versuchen Sie es dann erneut.',
    ERR_LOCK:
      'Eine andere Instanz der App aktualisiert gerade die Images. Warten Sie, bis sie fertig ist, und versuchen Sie es dann erneut.',
    ERR_CACHE_LAYOUT:
      'Im Cache-Ordner liegt etwas, das nicht von dieser App stammt. Es wurde nichts geändert; wählen Sie einen anderen Ordner oder verschieben Sie diese Dateien.',
    ERR_IMPORT_SOURCE:
      'Der Ordner oder das Archiv für den Import ist unvollständig oder nicht lesbar. Es wurde nichts geändert; kopieren Sie die Daten erneut.',
    ERR_TAR_CORRUPT:
      'Das Archiv für den Import ist beschädigt. Es wurde nichts geändert; kopieren Sie es erneut.',
    ERR_ABORTED: 'Download abgebrochen. „Erneut versuchen“ setzt ihn dort fort, wo er stehen geblieben ist.',
    ERR_INVALID_REQUEST: 'Die Anfrage wurde nicht verstanden.',
    ERR_FORBIDDEN_SENDER: 'Die Anfrage kam von einer Seite, die den Cache nicht verwalten darf.',
    ERR_INTERNAL:
      'Etwas ist schiefgelaufen. Versuchen Sie es erneut; falls der Fehler bleibt, senden Sie die Protokolldatei an den Support.',
  },

  errorStates: {
    diskFull: (needed, free, missing, path) =>
      `Nicht genug Speicherplatz: Die VM-Images brauchen ${needed} freien Speicher auf ${path}, dort sind ${free} frei. Geben Sie dort mindestens ${missing} frei und wählen Sie dann „Erneut versuchen“.`,
    signatureCached: (images) =>
      `Die Signatur des Manifests passt nicht zum Schlüssel des Herausgebers; es wurde abgelehnt und nichts geändert. Die App verwendet weiter die VM-Images, die sie hat: ${images}.`,
    offlineCached: (images) =>
      `Der Image-Server ist nicht erreichbar. Die App arbeitet mit den VM-Images weiter, die sie hat: ${images}. „Erneut versuchen“ sucht nach Updates, sobald Sie online sind.`,
    offlineEmpty:
      'Der Image-Server ist nicht erreichbar. Der Download braucht eine Internetverbindung; sobald Sie online sind, setzt „Erneut versuchen“ ihn dort fort, wo er stehen geblieben ist.',
    cachedImages: (count, n, names, size) =>
      count > 3
        ? `${n} Images, insgesamt ${size}`
        : count === 1
          ? `${names}, ${size}`
          : `${names}, insgesamt ${size}`,
  },

  pages: {
    firstRunTitle: 'VM-Images werden eingerichtet',
    firstRunHeading: 'Willkommen',
    firstRunLead:
      'Die App braucht ihre VM-Images, bevor sie Agenten ausführen kann. Das geschieht nur einmal; spätere Updates werden im Hintergrund geladen.',
    settingsTitle: 'Einstellungen',
    settingsHeading: 'Einstellungen',
    settingsLead:
      'Die VM-Images, in denen Agenten laufen: was im Cache liegt und wie er sich reparieren lässt.',
  },
};
