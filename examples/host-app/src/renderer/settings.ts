// The settings page: <vm-cache-panel> talks to main through window.vmCache.
import { defineVmCachePanel } from 'electron-vm-cache/renderer/panel';

defineVmCachePanel();
