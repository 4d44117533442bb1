// Stand-ins for Electron's own objects (ipcMain, BrowserWindow, webContents,
// app, net, protocol, session, Menu), the only things these tests do not run for real.
// They record what the code under test asked of them and behave like the
// real ones where that matters (handle() refuses a second handler, a closed
// window destroys its webContents, whenReady resolves when the test says so).
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { DemoElectronParts } from '../../demo/app.js';

export class FakeIpcMain {
  readonly calls: string[] = [];
  readonly handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();

  handle(channel: string, listener: (event: unknown, ...args: unknown[]) => unknown): void {
    this.calls.push(`handle ${channel}`);
    // Electron throws here too: "Attempted to register a second handler".
    if (this.handlers.has(channel))
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.calls.push(`removeHandler ${channel}`);
    this.handlers.delete(channel);
  }

  /** What ipcRenderer.invoke(channel, ...args) from `contents` would do. */
  async invoke(
    contents: FakeWebContents,
    channel: string,
    args: unknown[] = [],
    frame: FakeFrame | null = contents.mainFrame,
  ): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler({ sender: contents, senderFrame: frame, frameId: 1, processId: 1 }, ...args);
  }
}

export class FakeFrame {
  constructor(public url: string) {}
}

let nextId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextId++;
  readonly mainFrame = new FakeFrame('about:blank');
  readonly sent: Array<{ channel: string; payload: unknown; at: number }> = [];
  windowOpenHandler: ((details: unknown) => unknown) | undefined;
  private destroyed = false;

  send(channel: string, payload: unknown): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, payload, at: Date.now() });
    // Structured clone, as IPC does: the renderer never shares objects with main.
    this.emit('to-renderer', channel, structuredClone(payload));
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  setWindowOpenHandler(handler: (details: unknown) => unknown): void {
    this.windowOpenHandler = handler;
  }

  /** A page load: the main frame navigates (did-start-navigation first, as in Electron). */
  navigate(url: string, options: { isMainFrame?: boolean; isSameDocument?: boolean } = {}): void {
    const isMainFrame = options.isMainFrame ?? true;
    this.emit('did-start-navigation', { url, isMainFrame, isSameDocument: options.isSameDocument ?? false });
    if (isMainFrame) this.mainFrame.url = url;
  }

  /** Emits a cancellable event and tells whether a listener prevented it. */
  emitPreventable(name: string, ...args: unknown[]): boolean {
    let prevented = false;
    this.emit(name, { preventDefault: () => (prevented = true) }, ...args);
    return prevented;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('destroyed');
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static created: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loads: string[] = [];
  /** What the session's protocol handler answered for each loadURL it served. */
  readonly responses: Response[] = [];
  shown = false;
  focused = 0;
  private destroyed = false;

  constructor(readonly options: Record<string, unknown> & { webPreferences?: Record<string, unknown> }) {
    super();
    FakeBrowserWindow.created.push(this);
  }

  async loadFile(file: string): Promise<void> {
    this.loads.push(`file ${file}`);
    this.webContents.navigate(`file://${file}`);
  }

  /** As Electron: a URL whose scheme the window's session handles is answered by that handler, and a failed answer fails the load. */
  async loadURL(url: string): Promise<void> {
    this.loads.push(`url ${url}`);
    // The frame's URL is set at once (as before): the tests read it right after opening a window.
    this.webContents.navigate(url);
    const session = this.options.webPreferences?.session as FakeSession | undefined;
    const handler = session?.protocol.handlers.get(new URL(url).protocol.slice(0, -1));
    if (handler) {
      const response = await handler(new Request(url));
      this.responses.push(response);
      if (!response.ok) throw new Error(`ERR_FILE_NOT_FOUND (${response.status}) loading '${url}'`);
    }
  }

  show(): void {
    this.shown = true;
  }

  focus(): void {
    this.focused++;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  close(): void {
    if (this.destroyed) return;
    this.emit('close', { preventDefault() {} });
    this.destroyed = true;
    this.webContents.destroy();
    this.emit('closed');
  }
}

/** session.protocol: handle/unhandle as Electron's (handle throws for a scheme already handled). */
export class FakeSessionProtocol {
  readonly handlers = new Map<string, (request: Request) => Response | Promise<Response>>();

  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void {
    if (this.handlers.has(scheme)) throw new Error(`Failed to register protocol: ${scheme}`);
    this.handlers.set(scheme, handler);
  }

  unhandle(scheme: string): void {
    this.handlers.delete(scheme);
  }

  isProtocolHandled(scheme: string): boolean {
    return this.handlers.has(scheme);
  }
}

/** The protocol module's before-ready half: Electron throws once the app is ready. */
export class FakeProtocol {
  readonly privileged: unknown[][] = [];

  constructor(private readonly app: FakeApp) {}

  registerSchemesAsPrivileged(schemes: unknown[]): void {
    if (this.app.isReady())
      throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
    this.privileged.push(schemes);
  }
}

export class FakeSession extends EventEmitter {
  readonly protocol = new FakeSessionProtocol();
  headersListener: ((details: unknown, callback: (response: unknown) => void) => void) | undefined;
  beforeRequestListener: ((details: unknown, callback: (response: unknown) => void) => void) | undefined;
  permissionRequestHandler: ((...args: unknown[]) => void) | undefined;
  permissionCheckHandler: ((...args: unknown[]) => boolean) | undefined;
  readonly webRequest = {
    onHeadersReceived: (listener: FakeSession['headersListener']) => {
      this.headersListener = listener;
    },
    onBeforeRequest: (listener: FakeSession['beforeRequestListener']) => {
      this.beforeRequestListener = listener;
    },
  };

  setPermissionRequestHandler(handler: FakeSession['permissionRequestHandler']): void {
    this.permissionRequestHandler = handler;
  }

  setPermissionCheckHandler(handler: FakeSession['permissionCheckHandler']): void {
    this.permissionCheckHandler = handler;
  }
}

export class FakeApp extends EventEmitter {
  readonly quitCalls: number[] = [];
  /** As from an unpacked app (`electron .`); a test sets it to act as an installed one. */
  isPackaged = false;
  /** What getAppPath() answers; a test points it at a host's folder. */
  appPath = process.cwd();
  whenReadyCalls = 0;
  private isReadyNow = false;
  private ready!: () => void;
  private readonly readyPromise = new Promise<void>((resolve) => {
    this.ready = resolve;
  });

  constructor(private readonly userData: string) {
    super();
  }

  whenReady(): Promise<void> {
    this.whenReadyCalls++;
    return this.readyPromise;
  }

  isReady(): boolean {
    return this.isReadyNow;
  }

  /** The test decides when Electron is ready. */
  becomeReady(): void {
    this.isReadyNow = true;
    this.ready();
  }

  getPath(name: string): string {
    if (name !== 'userData') throw new Error(`unexpected getPath(${name})`);
    return this.userData;
  }

  /** The app's folder, where its package.json is: as if this repository were the app. */
  getAppPath(): string {
    return this.appPath;
  }

  quit(): void {
    this.quitCalls.push(Date.now());
  }
}

export interface StandIns {
  app: FakeApp;
  ipcMain: FakeIpcMain;
  protocol: FakeProtocol;
  session: FakeSession;
  partitions: string[];
  fetchCalls: string[];
  windows: FakeBrowserWindow[];
  menus: unknown[];
  /** Typed as the real Electron slice the code under test takes. */
  parts: DemoElectronParts;
}

/**
 * net.request's ClientRequest over node:http, with Electron's redirect rules:
 * a 3xx emits 'redirect' (in 'follow' mode too), and in 'manual' mode the
 * request is cancelled ("Redirect was cancelled") unless the listener calls
 * followRedirect() synchronously; the 'response' is a Readable with status
 * and headers, as Electron's IncomingMessage is at run time, its header values
 * decoded as UTF-8 (the worst case for a Fetch Headers object).
 */
export class FakeClientRequest extends EventEmitter {
  private readonly headers: Record<string, string> = {};
  private current: http.ClientRequest | undefined;
  aborted = false;
  private follow = false;

  constructor(
    private readonly options: { url?: string; method?: string; redirect?: string },
    private readonly urls: string[],
  ) {
    super();
  }

  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }

  followRedirect(): void {
    this.follow = true;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.current?.destroy();
    this.emit('abort');
  }

  end(): void {
    this.go(this.options.url!);
  }

  private go(url: string): void {
    this.urls.push(url);
    const req = http.request(url, { method: this.options.method ?? 'GET', headers: this.headers }, (res) => {
      if (this.aborted) {
        res.destroy();
        return;
      }
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location) {
        res.resume();
        const next = new URL(location, url).href;
        this.follow = this.options.redirect !== 'manual';
        this.emit('redirect', status, this.options.method ?? 'GET', next, res.headers);
        if (this.aborted) return;
        if (!this.follow) {
          this.emit('error', new Error('Redirect was cancelled'));
          return;
        }
        this.go(next);
        return;
      }
      for (const [name, value] of Object.entries(res.headers)) {
        if (typeof value === 'string') res.headers[name] = Buffer.from(value, 'latin1').toString('utf8');
      }
      this.emit('response', res);
    });
    req.on('error', (err) => {
      if (!this.aborted) this.emit('error', err);
    });
    this.current = req;
    req.end();
  }
}

export function electronStandIns(userData: string): StandIns {
  FakeBrowserWindow.created = [];
  const app = new FakeApp(userData);
  const ipcMain = new FakeIpcMain();
  const protocol = new FakeProtocol(app);
  const session = new FakeSession();
  const partitions: string[] = [];
  const fetchCalls: string[] = [];
  const menus: unknown[] = [];
  const parts = {
    app,
    ipcMain,
    protocol,
    BrowserWindow: FakeBrowserWindow,
    // net.request: the system's network stack in Electron, node:http here.
    net: {
      request: (options: { url?: string; method?: string; redirect?: string }) =>
        new FakeClientRequest(options, fetchCalls),
    },
    session: {
      fromPartition: (partition: string) => {
        partitions.push(partition);
        return session;
      },
    },
    Menu: {
      buildFromTemplate: (template: unknown) => ({ template }),
      setApplicationMenu: (menu: unknown) => menus.push(menu),
    },
  };
  return {
    app,
    ipcMain,
    protocol,
    session,
    partitions,
    fetchCalls,
    menus,
    get windows() {
      return FakeBrowserWindow.created;
    },
    parts: parts as unknown as StandIns['parts'],
  };
}

/**
 * ipcRenderer for a page in `contents`: invoke goes through the registered
 * ipcMain handler, and what main sends to `contents` reaches its listeners
 * with an event object first, as in Electron.
 */
export function fakeIpcRenderer(ipcMain: FakeIpcMain, contents: FakeWebContents) {
  const listeners = new Map<(...args: unknown[]) => void, (channel: string, payload: unknown) => void>();
  const event = { sender: 'the ipcRenderer itself', senderId: 0, ports: [] };
  return {
    invoke: (channel: string, ...args: unknown[]) => ipcMain.invoke(contents, channel, args),
    on(channel: string, listener: (...args: unknown[]) => void) {
      const relay = (ch: string, payload: unknown) => {
        if (ch === channel) listener(event, payload);
      };
      listeners.set(listener, relay);
      contents.on('to-renderer', relay);
      return this;
    },
    removeListener(_channel: string, listener: (...args: unknown[]) => void) {
      const relay = listeners.get(listener);
      if (relay) contents.off('to-renderer', relay);
      listeners.delete(listener);
      return this;
    },
    listenerCount: () => contents.listenerCount('to-renderer'),
  };
}
