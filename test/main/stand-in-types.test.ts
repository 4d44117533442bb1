// The stand-ins are held to Electron's own declarations (electron.d.ts), so a
// signature of Electron's that changes under a member the code uses breaks the
// tests' build. The classes below get one member wrong each, on purpose: every
// `@ts-expect-error` says that `npm run typecheck` refuses it, and the build
// fails the day one of them is no longer refused (the check has rotted).
import type { App, IpcMain, Net, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import {
  asBrowserWindow,
  FakeBrowserWindow,
  FakeClientRequest,
  fakeWindow,
  type StandIn,
} from './electron-stand-ins.js';

class NarrowerParameter implements StandIn<IpcMain, 'removeHandler'> {
  // Electron's callers may pass any channel. Pick<IpcMain, 'removeHandler'> alone lets this
  // through (TypeScript compares a method's parameters both ways); StandIn does not.
  // @ts-expect-error a stand-in accepts at least what Electron's method accepts
  removeHandler(_channel: 'vm-cache:get-status'): void {}
}

class WrongReturn implements StandIn<App, 'getAppPath'> {
  // @ts-expect-error getAppPath answers a string
  getAppPath(): number {
    return 0;
  }
}

class ListenerExpectsOtherEvent implements StandIn<IpcMain, 'handle'> {
  // @ts-expect-error a handler is called with an IpcMainInvokeEvent, whose sender is a WebContents
  handle(_channel: string, _listener: (event: { sender: string }) => unknown): void {}
}

// @ts-expect-error a stand-in has every member it stands in for (here isDestroyed is missing)
class MissingMember implements StandIn<WebContents, 'id' | 'isDestroyed'> {
  readonly id = 1;
}

class EventMethodWrongParameters implements StandIn<App, 'on'> {
  // on() may return the stand-in (not the whole App), but what it is called with is Electron's.
  // @ts-expect-error an event name is a string
  on(_event: number): this {
    return this;
  }
}

const netTakingOptionsOnly = {
  // Electron's net.request also takes a plain URL string.
  // @ts-expect-error a stand-in accepts at least what Electron's method accepts
  request: (options: { url: string }) => new FakeClientRequest(options, []),
} satisfies StandIn<Net, 'request'>;

describe('the Electron stand-ins', () => {
  it('are refused by the type check where they differ from Electron (the @ts-expect-error lines above)', () => {
    // The check is the build's; these exist for it alone.
    const refused = [
      NarrowerParameter,
      WrongReturn,
      ListenerExpectsOtherEvent,
      MissingMember,
      EventMethodWrongParameters,
    ];
    expect(refused.every((standIn) => typeof standIn === 'function')).toBe(true);
    expect(typeof netTakingOptionsOnly.request).toBe('function');
  });

  it('are handed to the code under test as the same object, and taken back only when they are one', () => {
    const win = new FakeBrowserWindow({});
    expect(fakeWindow(asBrowserWindow(win))).toBe(win);
    expect(() => fakeWindow(Object.create(null))).toThrow('not a stand-in window');
  });
});
