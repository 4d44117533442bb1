// Entry of the app's two pages: defines <vm-cache-panel> and places it in
// <main> in the mode the page names (<body data-mode="first-run|settings">).
import { defineVmCachePanel, type PanelMode } from './panel/index.js';

defineVmCachePanel();

const mode: PanelMode = document.body.dataset.mode === 'settings' ? 'settings' : 'first-run';
const panel = document.createElement('vm-cache-panel');
panel.mode = mode;
panel.addEventListener('vm-cache-continue', () => {
  // The first-run window has done its job; the main process opens the app's
  // main window when it closes.
  window.close();
});
(document.querySelector('main') ?? document.body).append(panel);
