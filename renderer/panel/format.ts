// Numbers as people read them, in the page's locale: every digit goes through
// Intl, every word around it comes from the words table. Sizes keep the rule
// of contract/format.ts (the CLI's): SI units, three significant figures at
// most ("118 MB", "46.9 MB", "3.21 GB"), so English reads exactly as the CLI.
import { wordsFor } from './locale.js';
import type { PanelWords } from './words.js';

export interface PanelFormat {
  /** The locale the numbers are written in (BCP 47). */
  readonly locale: string;
  /** A whole number: "2", "1,024" ("1.024" in German). */
  count(n: number): string;
  /** "46.9 MB" ("46,9 MB"); the words' `unknown` when not a size. */
  bytes(n: number): string;
  /** "46.9 MB/s"; the words' `unknown` while there is no rate. */
  rate(bytesPerSecond: number): string;
  /** A round rate in whole units where it has none: "5 MB/s" rather than "5.00 MB/s". */
  roundRate(bytesPerSecond: number): string;
  /** A whole percent: "42 %" in German, "42%" in English. */
  percent(whole: number): string;
  /** "3 min 20 sec", "1 hr 5 min": rounded so it does not flicker. */
  duration(seconds: number): string;
  /** Time left, in words: "3 min 20 sec left", "estimating…". */
  eta(seconds: number | null): string;
  /** A date (ISO string or epoch ms), with the time by default; the words' `unknown` when absent or invalid. */
  date(value: string | number | null | undefined, withTime?: boolean): string;
  /** Names joined as the locale lists them: "a, b and c" ("a, b und c"). */
  list(items: readonly string[]): string;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** Intl objects are slow to build and immutable: one per locale and options. */
const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.ListFormat>();
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.ListFormat>(
  key: string,
  make: () => T,
): T {
  let found = cache.get(key) as T | undefined;
  if (!found) {
    found = make();
    cache.set(key, found);
  }
  return found;
}

function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  return cached(`n|${locale}|${JSON.stringify(options)}`, () => new Intl.NumberFormat(locale, options));
}

/** A number with exactly `digits` decimals, without grouping (sizes stay under 1000 of their unit). */
function fixed(locale: string, value: number, digits: number): string {
  return numberFormat(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);
}

/** The value in its unit: 3 210 000 -> [3.21, 'MB']. */
function scale(bytes: number): [number, (typeof UNITS)[number]] {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return [value, UNITS[unit]!];
}

export function panelFormat(locale: string, words: PanelWords): PanelFormat {
  const bytes = (n: number): string => {
    if (!Number.isFinite(n) || n < 0) return words.unknown;
    const [value, unit] = scale(n);
    const digits = unit === 'B' || value >= 100 ? 0 : value >= 10 ? 1 : 2;
    return words.size(fixed(locale, value, digits), words.units[unit]);
  };
  const unitOf = (unit: 'hour' | 'minute' | 'second', n: number): string =>
    numberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(n);
  const list = cached(`l|${locale}`, () => new Intl.ListFormat(locale, { type: 'unit', style: 'narrow' }));

  const duration = (seconds: number): string => {
    const s = Math.max(1, Math.ceil(seconds));
    if (s < 60) return unitOf('second', s);
    const minutes = Math.floor(s / 60);
    if (minutes < 60) {
      const rest = s % 60;
      return rest === 0 || minutes >= 10
        ? unitOf('minute', minutes)
        : list.format([unitOf('minute', minutes), unitOf('second', rest)]);
    }
    const hours = Math.floor(minutes / 60);
    const restMin = minutes % 60;
    return restMin === 0
      ? unitOf('hour', hours)
      : list.format([unitOf('hour', hours), unitOf('minute', restMin)]);
  };

  return {
    locale,
    count: (n) => numberFormat(locale, { maximumFractionDigits: 0 }).format(n),
    bytes,
    rate: (bps) => (!Number.isFinite(bps) || bps <= 0 ? words.unknown : words.rate(bytes(bps))),
    roundRate(bps) {
      const [value, unit] = scale(bps);
      if (!Number.isInteger(value)) return words.rate(bytes(bps));
      return words.rate(words.size(fixed(locale, value, 0), words.units[unit]));
    },
    percent: (whole) =>
      numberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(whole / 100),
    duration,
    eta(seconds) {
      if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return words.timeLeftUnknown;
      if (Math.ceil(seconds) <= 1) return words.timeLeftUnderASecond;
      return words.timeLeft(duration(seconds));
    },
    date(value, withTime = true) {
      if (value === null || value === undefined) return words.unknown;
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) return words.unknown;
      const options: Intl.DateTimeFormatOptions = withTime
        ? { dateStyle: 'medium', timeStyle: 'short' }
        : { dateStyle: 'medium' };
      return cached(`d|${locale}|${withTime}`, () => new Intl.DateTimeFormat(locale, options)).format(date);
    },
    list: (items) =>
      cached(`c|${locale}`, () => new Intl.ListFormat(locale, { type: 'conjunction', style: 'long' })).format(
        items,
      ),
  };
}

/** Whole percent, rounded down: 100 only when complete. */
export { wholePercent } from '../../contract/format.js';

// For a host that shows the same numbers elsewhere, in the panel's words for
// `locale` (English by default, as the CLI writes them). A host with words of
// its own builds a PanelFormat with panelFormat(locale, words).

/** "118 MB"; "118,4 MB" for "de". */
export function formatBytes(bytes: number, locale = 'en'): string {
  return panelFormat(locale, wordsFor(locale)).bytes(bytes);
}

/** "46.9 MB/s"; '—' while there is none. */
export function formatRate(bytesPerSecond: number, locale = 'en'): string {
  return panelFormat(locale, wordsFor(locale)).rate(bytesPerSecond);
}

/** "3 min 20 sec left", "estimating…"; "noch 3 Min. und 20 Sek." for "de". */
export function formatEta(seconds: number | null, locale = 'en'): string {
  return panelFormat(locale, wordsFor(locale)).eta(seconds);
}

/** The first 12 hex characters: enough to compare with a release note by eye. */
export function shortSha(sha256: string): string {
  return sha256.slice(0, 12);
}

/** What every template needs to speak: the words in effect and the numbers' locale. */
export interface L10n {
  readonly words: PanelWords;
  readonly format: PanelFormat;
}

export function l10n(locale: string, words: PanelWords): L10n {
  return { words, format: panelFormat(locale, words) };
}
