// The host's own preload. Whatever else the app exposes goes here too; the
// plugin adds window.vmCache.
import { exposeVmCache } from 'electron-vm-cache/preload/expose';

exposeVmCache();
