// What a host app imports: the element class, its definer, the words (to
// override them in part or build a table for another language), and the
// formatting helpers (handy for a host that shows the same numbers elsewhere).
export { localeOf } from './element-locale.js';
export { formatBytes, formatEta, formatRate, type PanelFormat, panelFormat } from './format.js';
export {
  canonicalLocale,
  PANEL_WORDS,
  type PanelWordsOverride,
  shippedWords,
  wordsFor,
} from './locale.js';
export {
  defineVmCachePanel,
  type PanelMode,
  type PanelTheme,
  VmCachePanel,
} from './vm-cache-panel.js';
export { windowApi } from './window.js';
export { type ButtonName, ENGLISH_WORDS, type PanelWords } from './words.js';
export { GERMAN_WORDS } from './words-de.js';
