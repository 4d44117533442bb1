// The page's locale as an element sees it: its own lang, else the nearest
// ancestor's (across shadow roots), else the browser's language.
import { canonicalLocale } from './locale.js';

/**
 * The locale of `element`: its own lang attribute, else the nearest
 * ancestor's (continuing past a shadow root to its host), else the browser's
 * language. An empty or malformed lang is passed over.
 */
export function localeOf(element: Element): string {
  let node: Node | null = element;
  while (node) {
    if (node.nodeType === Node.ELEMENT_NODE) {
      const found = canonicalLocale((node as Element).getAttribute('lang'));
      if (found) return found;
    }
    node = node.parentNode ?? (node as Partial<ShadowRoot>).host ?? null;
  }
  return canonicalLocale(navigator.language) ?? 'en';
}
