// Which words the panel speaks for a locale: the table shipped for its
// language (English, German; English for any other), and a host's partial
// override on top. No DOM here (Node tests import it); the element's locale
// is found in element-locale.ts.
import { ENGLISH_WORDS, type PanelWords } from './words.js';
import { GERMAN_WORDS } from './words-de.js';

/** The tables the panel ships, by language subtag. */
export const PANEL_WORDS: Readonly<Record<string, PanelWords>> = Object.freeze({
  en: ENGLISH_WORDS,
  de: GERMAN_WORDS,
});

/**
 * What a host may set as the `words` property: any part of the table. A
 * group (`buttons`, `errors`, `phases`, ...) may be given in part too; the
 * rest of it keeps the words of the page's language.
 */
export type PanelWordsOverride = {
  [K in keyof PanelWords]?: PanelWords[K] extends (...args: never[]) => unknown
    ? PanelWords[K]
    : PanelWords[K] extends object
      ? Partial<PanelWords[K]>
      : PanelWords[K];
};

/** `tag` in canonical form ("de-at" -> "de-AT"); undefined when it is not a language tag. */
export function canonicalLocale(tag: string | null | undefined): string | undefined {
  const trimmed = tag?.trim();
  if (!trimmed) return undefined;
  try {
    return Intl.getCanonicalLocales(trimmed)[0];
  } catch {
    return undefined;
  }
}

/** The table shipped for `locale`'s language ("de-CH" -> German); undefined when there is none. */
export function shippedWords(locale: string): PanelWords | undefined {
  let language: string;
  try {
    language = new Intl.Locale(locale).language;
  } catch {
    return undefined;
  }
  return Object.hasOwn(PANEL_WORDS, language) ? PANEL_WORDS[language] : undefined;
}

/** The shipped table for `locale`'s language, English for any other. */
export function wordsFor(locale: string): PanelWords {
  return shippedWords(locale) ?? ENGLISH_WORDS;
}

function isGroup(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `base` with a host's override laid on it: entries replace, groups merge one level deep. */
export function mergeWords(base: PanelWords, override: PanelWordsOverride | undefined): PanelWords {
  if (!override) return base;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined || !Object.hasOwn(base, key)) continue;
    const before = merged[key];
    merged[key] = isGroup(before) && isGroup(value) ? { ...before, ...value } : value;
  }
  return merged as unknown as PanelWords;
}
