// Stand-ins for the Electron objects of the download in the background:
// Notification, powerMonitor and dialog, typed against electron.d.ts like the
// others (electron-stand-ins.ts), and the whole set handed to setup with them.
import { EventEmitter } from 'node:events';
import type {
  BaseWindow,
  Dialog,
  MessageBoxOptions,
  MessageBoxReturnValue,
  NotificationConstructorOptions,
  OpenDialogOptions,
  OpenDialogReturnValue,
} from 'electron';
import {
  asNotificationClass,
  asPowerMonitor,
  electronStandIns,
  type NotificationStandIn,
  type PowerMonitorStandIn,
  type StandIn,
  type StandIns,
} from './electron-stand-ins.js';

/** A notification as the test sees it: what it said, whether it is on screen, and a click. */
export class FakeNotification extends EventEmitter implements NotificationStandIn {
  onScreen = false;

  constructor(
    readonly options: NotificationConstructorOptions,
    private readonly shown: FakeNotification[],
  ) {
    super();
  }

  show(): void {
    this.onScreen = true;
    this.shown.push(this);
  }

  close(): void {
    if (!this.onScreen) return;
    this.onScreen = false;
    this.emit('close', { preventDefault() {}, defaultPrevented: false, reason: 'unknown' });
  }

  /** The user clicks it: Electron emits 'click' and the OS takes it away. */
  click(): void {
    this.onScreen = false;
    this.emit('click', { preventDefault() {}, defaultPrevented: false });
  }
}

/** A Notification class of its own per test: what was shown, and whether the system "supports" them. */
export function notificationStandIn() {
  const shown: FakeNotification[] = [];
  const state = { supported: true };
  class TestNotification extends FakeNotification {
    static isSupported(): boolean {
      return state.supported;
    }

    constructor(options: NotificationConstructorOptions = {}) {
      super(options, shown);
    }
  }
  return { Notification: TestNotification, shown, state };
}

export class FakePowerMonitor extends EventEmitter implements PowerMonitorStandIn {}

interface Question {
  window: BaseWindow | undefined;
  options: MessageBoxOptions;
  /** The user clicks the button at this index. */
  answer(response: number): void;
}

interface Picker {
  window: BaseWindow | undefined;
  options: OpenDialogOptions;
  /** The user picks this folder, or (null) closes the picker. */
  choose(folder: string | null): void;
}

/** dialog.showMessageBox and showOpenDialog: each waits until the test answers it. */
export class FakeDialog implements StandIn<Dialog, 'showMessageBox' | 'showOpenDialog'> {
  readonly asked: Question[] = [];
  readonly pickers: Picker[] = [];

  showOpenDialog(windowOrOptions: BaseWindow | OpenDialogOptions, maybeOptions?: OpenDialogOptions) {
    const window = maybeOptions ? (windowOrOptions as BaseWindow) : undefined;
    const options = maybeOptions ?? (windowOrOptions as OpenDialogOptions);
    return new Promise<OpenDialogReturnValue>((resolve) => {
      this.pickers.push({
        window,
        options,
        choose: (folder) =>
          resolve(
            folder === null ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: [folder] },
          ),
      });
    });
  }

  showMessageBox(windowOrOptions: BaseWindow | MessageBoxOptions, maybeOptions?: MessageBoxOptions) {
    const window = maybeOptions ? (windowOrOptions as BaseWindow) : undefined;
    const options = maybeOptions ?? (windowOrOptions as MessageBoxOptions);
    return new Promise<MessageBoxReturnValue>((resolve) => {
      this.asked.push({
        window,
        options,
        answer: (response) => resolve({ response, checkboxChecked: false }),
      });
    });
  }
}

export interface BackgroundStandIns extends StandIns {
  notifications: FakeNotification[];
  notificationState: { supported: boolean };
  powerMonitor: FakePowerMonitor;
  dialog: FakeDialog;
}

/** electronStandIns with Notification, powerMonitor and dialog in the parts too. */
export function backgroundStandIns(userData: string): BackgroundStandIns {
  const e = electronStandIns(userData);
  const { Notification, shown, state } = notificationStandIn();
  const powerMonitor = new FakePowerMonitor();
  const dialog = new FakeDialog();
  return Object.assign(e, {
    notifications: shown,
    notificationState: state,
    powerMonitor,
    dialog,
    parts: {
      ...e.parts,
      Notification: asNotificationClass(Notification),
      powerMonitor: asPowerMonitor(powerMonitor),
      dialog,
    },
  });
}
