// The plugin's own preload, shipped as `electron-vm-cache/preload`: one
// self-contained CommonJS file (a sandboxed preload can be neither an ES
// module nor require anything but `electron`). It exposes window.vmCache and
// nothing else.
import { exposeVmCache } from './expose.js';

exposeVmCache();
