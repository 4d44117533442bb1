// The panel's words and number formats without a browser: the German table
// has every entry of the English one, a host's words merge over a table one
// group deep, a locale finds its table, and numbers follow the locale (Node's
// Intl, as the page's).
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_WORDS } from '../../contract/codes.js';
import { formatBytes as cliFormatBytes } from '../../contract/format.js';
import { formatBytes, formatEta, formatRate, l10n, panelFormat } from '../../renderer/panel/format.js';
import {
  canonicalLocale,
  mergeWords,
  PANEL_WORDS,
  shippedWords,
  wordsFor,
} from '../../renderer/panel/locale.js';
import { ENGLISH_WORDS } from '../../renderer/panel/words.js';
import { GERMAN_WORDS } from '../../renderer/panel/words-de.js';

/** Every key path of a table: "buttons.retry", "errors.ERR_IO", "size", ... */
function keyPaths(table: object, prefix = ''): string[] {
  return Object.entries(table).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null
      ? keyPaths(value, `${prefix}${key}.`)
      : [`${prefix}${key}:${typeof value}`],
  );
}

describe('panel words (no browser needed)', () => {
  it('ships a complete German table: every entry of the English one, of the same kind, and every error code', () => {
    expect(keyPaths(GERMAN_WORDS).sort()).toEqual(keyPaths(ENGLISH_WORDS).sort());
    expect(Object.keys(GERMAN_WORDS.errors).sort()).toEqual([...ERROR_CODES].sort());
    // Words, not copies: every sentence of the German table is its own.
    for (const code of ERROR_CODES) expect(GERMAN_WORDS.errors[code]).not.toBe(ERROR_WORDS[code]);
    for (const name of Object.keys(ENGLISH_WORDS.buttons) as Array<keyof typeof ENGLISH_WORDS.buttons>) {
      expect(GERMAN_WORDS.buttons[name]).not.toBe(ENGLISH_WORDS.buttons[name]);
    }
    expect(ENGLISH_WORDS.errors).toBe(ERROR_WORDS);
  });

  it('finds the table by language, English for any other; canonical tags only', () => {
    expect(wordsFor('de')).toBe(GERMAN_WORDS);
    expect(wordsFor('de-CH')).toBe(GERMAN_WORDS);
    expect(wordsFor('en-GB')).toBe(ENGLISH_WORDS);
    expect(wordsFor('ar')).toBe(ENGLISH_WORDS);
    expect(wordsFor('not a tag')).toBe(ENGLISH_WORDS);
    expect(shippedWords('fr')).toBeUndefined();
    expect(Object.keys(PANEL_WORDS).sort()).toEqual(['de', 'en']);
    expect(canonicalLocale(' de-at ')).toBe('de-AT');
    expect(canonicalLocale('')).toBeUndefined();
    expect(canonicalLocale('x_y z')).toBeUndefined();
  });

  it('merges a host’s words over a table: entries replace, groups merge one level, unknown keys are ignored', () => {
    const merged = mergeWords(GERMAN_WORDS, {
      firstRunTitle: 'Bilder holen',
      buttons: { retry: 'Nochmal' },
      errors: { ERR_IO: 'Kein Schreibzugriff.' },
      rate: (size) => `${size} pro Sekunde`,
      ...({ bogus: 'x' } as object),
    });
    expect(merged.firstRunTitle).toBe('Bilder holen');
    expect(merged.buttons).toEqual({ ...GERMAN_WORDS.buttons, retry: 'Nochmal' });
    expect(merged.errors.ERR_IO).toBe('Kein Schreibzugriff.');
    expect(merged.errors.ERR_LOCK).toBe(GERMAN_WORDS.errors.ERR_LOCK);
    expect(merged.rate('5 MB')).toBe('5 MB pro Sekunde');
    expect('bogus' in merged).toBe(false);
    expect(GERMAN_WORDS.buttons.retry).toBe('Erneut versuchen');
    expect(mergeWords(ENGLISH_WORDS, undefined)).toBe(ENGLISH_WORDS);
  });

  it('writes English sizes exactly as the CLI does', () => {
    for (const n of [
      0,
      999,
      1000,
      46_900_000,
      118_400_000,
      3_210_000_000,
      5_129_090,
      12_345,
      -1,
      Number.NaN,
    ]) {
      expect(formatBytes(n)).toBe(cliFormatBytes(n));
    }
  });

  it('writes numbers, sizes, rates, percents, durations and dates in the locale', () => {
    const de = panelFormat('de', GERMAN_WORDS);
    expect(de.bytes(46_900_000)).toBe('46,9\u00a0MB');
    expect(de.bytes(3_210_000_000)).toBe('3,21\u00a0GB');
    expect(de.rate(1_860_000)).toBe('1,86\u00a0MB/s');
    expect(de.roundRate(5_000_000)).toBe('5\u00a0MB/s');
    expect(de.roundRate(3 * 1024 * 1024)).toBe('3,15\u00a0MB/s');
    expect(de.percent(42)).toBe('42\u00a0%');
    expect(de.count(1024)).toBe('1.024');
    // ICU versions join the two units differently ("3 Min. und 20 Sek." in Chromium 156, "3 Min., 20 Sek." in Node 20).
    expect(de.eta(200)).toMatch(/^noch 3 Min\.(,| und) 20 Sek\.$/);
    expect(de.eta(0.4)).toBe('noch weniger als eine Sekunde');
    expect(de.eta(null)).toBe('Restzeit wird geschätzt …');
    expect(de.date('2026-04-24T12:00:00.000Z', false)).toBe('24.04.2026');
    expect(de.date('not a date')).toBe('—');

    const en = panelFormat('en', ENGLISH_WORDS);
    expect(en.percent(42)).toBe('42%');
    expect(en.eta(45)).toBe('45 sec left');
    expect(en.eta(600)).toBe('10 min left');
    expect(en.eta(3900)).toMatch(/^1 hr,? 5 min left$/);
    expect(formatEta(200, 'de')).toBe(de.eta(200));
    expect(formatRate(0)).toBe('—');
    expect(formatBytes(46_900_000, 'de')).toBe('46,9\u00a0MB');

    // English words with another locale's numbers (a page in a language without a table).
    const t = l10n('de', ENGLISH_WORDS);
    expect(t.format.bytes(46_900_000)).toBe('46,9 MB');
  });
});
