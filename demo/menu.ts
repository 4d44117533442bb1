// The demo app's menu: the plugin's two screens are reachable from it at any
// time (the first-run screen to watch a sync, settings to check or repair).
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openApp(): void;
  openFirstRun(): void;
  openSettings(): void;
}

export function demoMenuTemplate(
  actions: MenuActions,
  platform = process.platform,
): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const settings: MenuItemConstructorOptions = {
    label: 'VM Images Settings…',
    accelerator: 'CmdOrCtrl+,',
    click: () => actions.openSettings(),
  };
  return [
    ...(isMac
      ? [
          {
            role: 'appMenu',
            submenu: [
              { role: 'about' },
              { type: 'separator' },
              settings,
              { type: 'separator' },
              { role: 'hide' },
              { role: 'quit' },
            ],
          } satisfies MenuItemConstructorOptions,
        ]
      : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open App Window', click: () => actions.openApp() },
        ...(isMac ? [] : [settings]),
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: 'VM Images',
      submenu: [
        { label: 'Download Progress', click: () => actions.openFirstRun() },
        { label: 'Settings…', click: () => actions.openSettings() },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
}
