// The panel's error states without a browser: which codes mean which state,
// the words each says (disk full with the engine's figures in the locale's
// numbers, a refused signature and an unreachable server with the cached
// images named), and the one primary action of each, per form. The browser
// side of the same states is errors.test.ts.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_WORDS, type ErrorInfo } from '../../contract/errors.js';
import type { CacheStatus } from '../../contract/status.js';
import { errorStateOf, errorWords, recoveryActions } from '../../renderer/panel/error-states.js';
import { l10n } from '../../renderer/panel/format.js';
import { ENGLISH_WORDS } from '../../renderer/panel/words.js';
import { GERMAN_WORDS } from '../../renderer/panel/words-de.js';

const en = l10n('en-US', ENGLISH_WORDS);
const de = l10n('de-DE', GERMAN_WORDS);

const DISK_FULL: ErrorInfo = {
  code: 'ERR_DISK_FULL',
  message: 'disk full at /data/vm/cache: 2.10 GB needed, 1.00 GB free; free some space and retry',
  detail: {
    kind: 'disk-space',
    path: '/data/vm/cache',
    neededBytes: 2_100_000_000,
    freeBytes: 1_000_000_000,
  },
};
const SIGNATURE: ErrorInfo = { code: 'ERR_SIGNATURE', message: 'manifest signature check failed' };
const OFFLINE: ErrorInfo = { code: 'ERR_MANIFEST_FETCH', message: 'manifest fetch failed: ECONNREFUSED' };

function status(images: Array<[agent: string, version: string, sizeBytes: number]>): CacheStatus {
  return {
    root: '/data/vm',
    manifestUrl: 'https://cdn.example.com/vm/manifest.json',
    cached: {
      updatedAt: '2026-04-24T00:00:00.000Z',
      artifacts: images.map(([agent, version, sizeBytes]) => ({
        agent,
        version,
        arch: 'x64',
        key: `vm/images/${agent}-${version}-x64.tar.gz`,
        sha256: 'a'.repeat(64),
        sizeBytes,
        present: true,
      })),
    },
    sizeOnDiskBytes: images.reduce((sum, [, , size]) => sum + size, 0),
    lastSync: null,
    progress: null,
    logPath: null,
  };
}

const TWO = status([
  ['openclaw', '2026.4.12', 2_700_000_000],
  ['hermes', '1.8.0', 310_000_000],
]);
const NONE: CacheStatus = { ...TWO, cached: null, sizeOnDiskBytes: 0 };

describe('error states (no browser needed)', () => {
  it('sorts the codes: disk full, signature, could not reach the server, cancelled, the rest', () => {
    const states = Object.fromEntries(ERROR_CODES.map((code) => [code, errorStateOf(code)]));
    expect(Object.entries(states).filter(([, s]) => s !== 'other')).toEqual([
      ['ERR_MANIFEST_FETCH', 'offline'],
      ['ERR_NETWORK', 'offline'],
      ['ERR_TIMEOUT', 'offline'],
      ['ERR_SIGNATURE', 'signature'],
      ['ERR_DISK_FULL', 'disk-full'],
      ['ERR_ABORTED', 'cancelled'],
    ]);
  });

  it('disk full: the space needed, what is free, what to free, and where, in the page’s numbers', () => {
    expect(errorWords(DISK_FULL, NONE, en)).toEqual({
      text: 'Not enough disk space: the VM images need 2.10 GB free on /data/vm/cache, which has 1.00 GB. Free at least 1.10 GB there, then press Retry.',
      path: '/data/vm/cache',
    });
    expect(errorWords(DISK_FULL, NONE, de).text).toBe(
      'Nicht genug Speicherplatz: Die VM-Images brauchen 2,10\u00a0GB freien Speicher auf /data/vm/cache, dort sind 1,00\u00a0GB frei. Geben Sie dort mindestens 1,10\u00a0GB frei und wählen Sie dann „Erneut versuchen“.',
    );
    // Without figures (ENOSPC in the middle of a write): the general sentence.
    expect(errorWords({ code: 'ERR_DISK_FULL', message: 'disk full' }, NONE, en)).toEqual({
      text: ERROR_WORDS.ERR_DISK_FULL,
    });
  });

  it('a refused signature says the key does not match and nothing changed, and names the images kept in use', () => {
    expect(errorWords(SIGNATURE, NONE, en).text).toBe(
      'The manifest’s signature does not match the publisher’s key, so it was refused. Nothing was changed; tell the app’s publisher.',
    );
    expect(errorWords(SIGNATURE, TWO, en).text).toBe(
      'The manifest’s signature does not match the publisher’s key, so it was refused and nothing was changed. The app keeps using the VM images it has: openclaw 2026.4.12 (x64) and hermes 1.8.0 (x64), 3.01 GB in all.',
    );
    expect(errorWords(SIGNATURE, TWO, de).text).toBe(
      'Die Signatur des Manifests passt nicht zum Schlüssel des Herausgebers; es wurde abgelehnt und nichts geändert. Die App verwendet weiter die VM-Images, die sie hat: openclaw 2026.4.12 (x64) und hermes 1.8.0 (x64), insgesamt 3,01\u00a0GB.',
    );
  });

  it('offline: with images cached the app keeps working with them (one by name, many by count); without, Retry once online', () => {
    const one = status([['openclaw', '2026.4.12', 2_700_000_000]]);
    const five = status(
      ['a', 'b', 'c', 'd', 'e'].map((a) => [a, '1.0', 1_000_000_000] as [string, string, number]),
    );
    for (const code of ['ERR_MANIFEST_FETCH', 'ERR_NETWORK', 'ERR_TIMEOUT'] as const) {
      const err = { code, message: 'x' };
      expect(errorWords(err, one, en).text).toBe(
        'Could not reach the image server. The app keeps working with the VM images it has: openclaw 2026.4.12 (x64), 2.70 GB. Retry looks for updates once you are online.',
      );
      expect(errorWords(err, five, en).text).toMatch(/it has: 5 images, 5\.00 GB in all\./);
      expect(errorWords(err, NONE, en).text).toBe(
        'Could not reach the image server. The download needs an internet connection; once you are online, Retry resumes it where it stopped.',
      );
    }
    // A cache whose images are gone is no cache to keep working with.
    const gone = status([['openclaw', '2026.4.12', 1]]);
    gone.cached!.artifacts[0]!.present = false;
    expect(errorWords(OFFLINE, gone, en).text).toBe(ENGLISH_WORDS.errorStates.offlineEmpty);
  });

  it('one primary action per state and form, first; what else helps after it', () => {
    const table = (err: ErrorInfo) => ({
      firstRunEmpty: recoveryActions(err, NONE, 'first-run'),
      firstRunCached: recoveryActions(err, TWO, 'first-run'),
      settings: recoveryActions(err, TWO, 'settings'),
    });
    expect(table(DISK_FULL)).toEqual({
      firstRunEmpty: ['retry'],
      firstRunCached: ['retry', 'continue'],
      settings: ['retry'],
    });
    expect(table(SIGNATURE)).toEqual({
      firstRunEmpty: ['check-again'],
      firstRunCached: ['continue', 'check-again'],
      settings: ['check-again'],
    });
    expect(table(OFFLINE)).toEqual({
      firstRunEmpty: ['retry'],
      firstRunCached: ['continue', 'retry'],
      settings: ['retry'],
    });
    expect(table({ code: 'ERR_SHA256_MISMATCH', message: 'x' })).toEqual({
      firstRunEmpty: ['retry'],
      firstRunCached: ['retry', 'continue'],
      settings: ['retry'],
    });
  });
});
