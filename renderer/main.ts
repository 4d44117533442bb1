// Entry of the app's two pages: defines <vm-cache-panel> and places it in
// <main> in the mode the page names (<body data-mode="first-run|settings">).
// The pages speak the language of the app: ?lang= when the URL names one
// (the preview's --locale), else the browser's (in Electron, the app's
// locale), provided the panel has words for it; English otherwise.
import { canonicalLocale, defineVmCachePanel, type PanelMode, shippedWords } from './panel/index.js';

function pageLocale(): string {
  const asked = new URLSearchParams(location.search).get('lang');
  for (const candidate of [asked, navigator.language]) {
    const locale = canonicalLocale(candidate);
    if (locale && shippedWords(locale)) return locale;
  }
  return 'en';
}

const locale = pageLocale();
const pageWords = shippedWords(locale)!.pages;
const mode: PanelMode = document.body.dataset.mode === 'settings' ? 'settings' : 'first-run';
// The panel takes its language from <html lang>; the words around it follow.
document.documentElement.lang = locale;
document.title = mode === 'settings' ? pageWords.settingsTitle : pageWords.firstRunTitle;
const heading = document.querySelector('h1');
if (heading)
  heading.textContent = mode === 'settings' ? pageWords.settingsHeading : pageWords.firstRunHeading;
const lead = document.querySelector('.lead');
if (lead) lead.textContent = mode === 'settings' ? pageWords.settingsLead : pageWords.firstRunLead;

defineVmCachePanel();

const panel = document.createElement('vm-cache-panel');
panel.mode = mode;
panel.addEventListener('vm-cache-continue', () => {
  // The first-run window has done its job; the main process opens the app's
  // main window when it closes.
  window.close();
});
(document.querySelector('main') ?? document.body).append(panel);
