// Installed ahead of the page's own entry by the preview build (preview/vite.config.ts):
// window.vmCache over a WebSocket to the preview server that served this page.
import { createWebSocketApi } from './ws-bridge.js';

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
window.vmCache = createWebSocketApi(`${scheme}//${location.host}/vm-cache-bridge`);
