// What a host app imports: the element class, its definer, and the formatting
// helpers (handy for a host that shows the same numbers elsewhere).
export { formatBytes, formatEta, formatRate } from './format.js';
export { defineVmCachePanel, type PanelMode, VmCachePanel } from './vm-cache-panel.js';
export { windowApi } from './window.js';
