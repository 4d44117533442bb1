// Stand-ins for Electron's own objects (ipcMain, BrowserWindow, webContents,
// app, net, protocol, session, Menu), the only things these tests do not run for real
// (Notification, powerMonitor and dialog: background-stand-ins.ts).
// They record what the code under test asked of them and behave like the
// real ones where that matters (handle() refuses a second handler, a closed
// window destroys its webContents, whenReady resolves when the test says so).
//
// Each is typed against Electron's own declarations (electron.d.ts): a class
// `implements StandIn<Electron's type, 'the members the code uses'>`, an
// object `satisfies` one, so a signature of Electron's that changes under a
// member we use breaks the tests' build (stand-in-types.test.ts shows that
// it does). Where the code under test declares a whole Electron type (a
// BrowserWindow, a Session, an IpcMainInvokeEvent), the stand-in reaches it
// through one of the hand-overs at the end of this file, the one cast.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type {
  App,
  BaseWindow,
  BrowserWindow,
  BrowserWindowConstructorOptions,
  ClientRequest,
  ClientRequestConstructorOptions,
  CustomScheme,
  Event as ElectronEvent,
  IpcMain,
  IpcMainInvokeEvent,
  IpcRenderer,
  IpcRendererEvent,
  Menu,
  MenuItem,
  MenuItemConstructorOptions,
  Net,
  Notification,
  NotificationConstructorOptions,
  OnBeforeRequestListenerDetails,
  OnHeadersReceivedListenerDetails,
  PopupOptions,
  PowerMonitor,
  ProgressBarOptions,
  Protocol,
  Session,
  UploadProgress,
  WebContents,
  WebContentsDidStartNavigationEventParams,
  WebFrameMain,
  WebRequest,
  WebRequestFilter,
} from 'electron';
import type { DemoElectronParts } from '../../demo/app.js';
import type { ElectronParts } from '../../main/electron/types.js';

/**
 * The members K of Electron's T, as a stand-in must provide them: Pick<T, K>
 * with two differences.
 * - A method that returns `this` (on, once: for chaining) may return anything.
 *   Pick pins that `this` to the whole T, which no stand-in is; the
 *   parameters are still checked.
 * - Every other method is also held to its last (for most, its only)
 *   signature as a plain function type. TypeScript compares a method's
 *   parameters both ways, a function's only the safe way, so a stand-in that
 *   accepts less than Electron's callers may pass (a narrower parameter)
 *   fails here and would not under Pick alone.
 */
export type StandIn<T, K extends keyof T> = {
  [P in K]: T[P] extends (...args: infer A) => infer R
    ? [R] extends [T]
      ? (...args: A) => unknown
      : T[P] & ((...args: A) => R)
    : T[P];
};

/** What the code under test uses of each Electron object; the stand-ins below implement exactly these. */
export type AppStandIn = StandIn<
  App,
  'whenReady' | 'isReady' | 'getPath' | 'getAppPath' | 'isPackaged' | 'on' | 'quit'
>;
export type IpcMainStandIn = StandIn<IpcMain, 'handle' | 'removeHandler'>;
export type FrameStandIn = StandIn<WebFrameMain, 'url'>;
export type WebContentsStandIn = StandIn<
  WebContents,
  'id' | 'send' | 'isDestroyed' | 'setWindowOpenHandler' | 'on' | 'once'
> & { readonly mainFrame: FrameStandIn };
export type BrowserWindowStandIn = StandIn<
  BrowserWindow,
  | 'loadFile'
  | 'loadURL'
  | 'show'
  | 'focus'
  | 'isFocused'
  | 'isDestroyed'
  | 'close'
  | 'setProgressBar'
  | 'on'
  | 'once'
> & { readonly webContents: WebContentsStandIn };
export type NotificationStandIn = StandIn<Notification, 'show' | 'close' | 'on'>;
export type PowerMonitorStandIn = StandIn<PowerMonitor, 'on' | 'removeListener'>;
export type SessionProtocolStandIn = StandIn<Protocol, 'handle' | 'unhandle' | 'isProtocolHandled'>;
export type SessionStandIn = StandIn<
  Session,
  'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'on'
> & {
  readonly protocol: SessionProtocolStandIn;
  readonly webRequest: StandIn<WebRequest, 'onHeadersReceived' | 'onBeforeRequest'>;
};
export type InvokeEventStandIn = StandIn<IpcMainInvokeEvent, 'frameId' | 'processId'> & {
  readonly sender: WebContentsStandIn;
  readonly senderFrame: FrameStandIn | null;
};
type IpcRendererStandIn = StandIn<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

type InvokeHandler = Parameters<IpcMain['handle']>[1];

export class FakeIpcMain implements IpcMainStandIn {
  readonly calls: string[] = [];
  readonly handlers = new Map<string, InvokeHandler>();

  handle(channel: string, listener: InvokeHandler): void {
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
    return handler(invokeEvent(contents, frame), ...args);
  }
}

/** The event ipcMain hands a handler for a message from `frame` of `contents` (null: a frame since gone). */
export function invokeEvent(contents: FakeWebContents, frame: FakeFrame | null): IpcMainInvokeEvent {
  return asInvokeEvent({ sender: contents, senderFrame: frame, frameId: 1, processId: 1 });
}

export class FakeFrame implements FrameStandIn {
  constructor(public url: string) {}
}

/** An Electron event as a listener gets it; `prevented` tells whether a listener called preventDefault(). */
function electronEvent(): ElectronEvent & { readonly prevented: () => boolean } {
  let prevented = false;
  return {
    preventDefault: () => {
      prevented = true;
    },
    get defaultPrevented() {
      return prevented;
    },
    prevented: () => prevented,
  };
}

let nextId = 1;

type WindowOpenHandler = Parameters<WebContents['setWindowOpenHandler']>[0];

export class FakeWebContents extends EventEmitter implements WebContentsStandIn {
  readonly id = nextId++;
  readonly mainFrame = new FakeFrame('about:blank');
  readonly sent: Array<{ channel: string; payload: unknown; at: number }> = [];
  windowOpenHandler: WindowOpenHandler | undefined;
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

  setWindowOpenHandler(handler: WindowOpenHandler): void {
    this.windowOpenHandler = handler;
  }

  /** A page load: the main frame navigates (did-start-navigation first, as in Electron). */
  navigate(url: string, options: { isMainFrame?: boolean; isSameDocument?: boolean } = {}): void {
    const isMainFrame = options.isMainFrame ?? true;
    const details = Object.assign(electronEvent(), {
      url,
      isMainFrame,
      isSameDocument: options.isSameDocument ?? false,
    }) satisfies ElectronEvent &
      Pick<WebContentsDidStartNavigationEventParams, 'url' | 'isMainFrame' | 'isSameDocument'>;
    this.emit('did-start-navigation', details);
    if (isMainFrame) this.mainFrame.url = url;
  }

  /** Emits a cancellable event and tells whether a listener prevented it. */
  emitPreventable(name: string, ...args: unknown[]): boolean {
    const event = electronEvent();
    this.emit(name, event, ...args);
    return event.prevented();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('destroyed');
  }
}

export class FakeBrowserWindow extends EventEmitter implements BrowserWindowStandIn {
  static created: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loads: string[] = [];
  /** What the session's protocol handler answered for each loadURL it served. */
  readonly responses: Response[] = [];
  shown = false;
  focused = 0;
  /** What isFocused() answers; a test sets it to act as the window the user looks at. */
  hasFocus = false;
  /** Every setProgressBar call, in order, with the time it was made. */
  readonly progressBar: Array<{
    progress: number;
    mode: ProgressBarOptions['mode'] | undefined;
    at: number;
  }> = [];
  private destroyed = false;

  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    FakeBrowserWindow.created.push(this);
  }

  /** As Electron's: the window whose webContents this is, or null. */
  static fromWebContents(contents: WebContents): BrowserWindow | null {
    const win = FakeBrowserWindow.created.find((w) => w.webContents === (contents as unknown));
    return win ? asBrowserWindow(win) : null;
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
    const session = this.options.webPreferences?.session;
    const handler =
      session instanceof FakeSession
        ? session.protocol.handlers.get(new URL(url).protocol.slice(0, -1))
        : undefined;
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

  isFocused(): boolean {
    return this.hasFocus;
  }

  setProgressBar(progress: number, options?: ProgressBarOptions): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.progressBar.push({ progress, mode: options?.mode, at: Date.now() });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  /** As Electron's: a 'close' listener that calls preventDefault() keeps the window open. */
  close(): void {
    if (this.destroyed) return;
    const event = electronEvent();
    this.emit('close', event);
    if (event.prevented()) return;
    this.destroyed = true;
    this.webContents.destroy();
    this.emit('closed');
  }
}

/** The stand-in behind a window the code under test returned (an Error if it is none). */
export function fakeWindow(win: BrowserWindow): FakeBrowserWindow {
  if (!(win instanceof FakeBrowserWindow)) throw new Error('not a stand-in window');
  return win;
}

type ProtocolHandler = Parameters<Protocol['handle']>[1];

/** session.protocol: handle/unhandle as Electron's (handle throws for a scheme already handled). */
export class FakeSessionProtocol implements SessionProtocolStandIn {
  readonly handlers = new Map<string, ProtocolHandler>();

  handle(scheme: string, handler: ProtocolHandler): void {
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
export class FakeProtocol implements StandIn<Protocol, 'registerSchemesAsPrivileged'> {
  readonly privileged: CustomScheme[][] = [];

  constructor(private readonly app: FakeApp) {}

  registerSchemesAsPrivileged(schemes: CustomScheme[]): void {
    if (this.app.isReady())
      throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
    this.privileged.push(schemes);
  }
}

type HeadersListener = Parameters<WebRequest['onHeadersReceived']>[0];
type BeforeRequestListener = Parameters<WebRequest['onBeforeRequest']>[0];
type PermissionRequestHandler = Parameters<Session['setPermissionRequestHandler']>[0];
type PermissionCheckHandler = Parameters<Session['setPermissionCheckHandler']>[0];

/** webRequest's listener from either form of the call; the form with a URL filter is not modelled. */
function listenerOf<L>(args: [L] | [WebRequestFilter, L]): L {
  if (args.length === 2) throw new Error('stand-in: webRequest URL filters are not modelled');
  return args[0];
}

export class FakeSession extends EventEmitter implements SessionStandIn {
  readonly protocol = new FakeSessionProtocol();
  headersListener: HeadersListener | undefined;
  beforeRequestListener: BeforeRequestListener | undefined;
  permissionRequestHandler: PermissionRequestHandler | undefined;
  permissionCheckHandler: PermissionCheckHandler | undefined;
  readonly webRequest = {
    onHeadersReceived: (...args: [HeadersListener] | [WebRequestFilter, HeadersListener]) => {
      this.headersListener = listenerOf(args);
    },
    onBeforeRequest: (...args: [BeforeRequestListener] | [WebRequestFilter, BeforeRequestListener]) => {
      this.beforeRequestListener = listenerOf(args);
    },
  };

  setPermissionRequestHandler(handler: PermissionRequestHandler): void {
    this.permissionRequestHandler = handler;
  }

  setPermissionCheckHandler(handler: PermissionCheckHandler): void {
    this.permissionCheckHandler = handler;
  }
}

/** What Electron hands onHeadersReceived for a main-frame response from `url`. */
export function headersReceived(
  url: string,
  responseHeaders: Record<string, string[]>,
): OnHeadersReceivedListenerDetails {
  const { uploadData: _, ...request } = beforeRequest(url);
  return {
    ...request,
    statusLine: 'HTTP/1.1 200 OK',
    statusCode: 200,
    responseHeaders,
  };
}

/** What Electron hands onBeforeRequest for a GET of `url`. */
export function beforeRequest(url: string): OnBeforeRequestListenerDetails {
  return {
    id: 1,
    url,
    method: 'GET',
    resourceType: 'mainFrame',
    referrer: '',
    timestamp: Date.now(),
    uploadData: [],
  };
}

export class FakeApp extends EventEmitter implements AppStandIn {
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

/** A menu as Menu.buildFromTemplate makes it: the template kept for the tests to read. Nothing is shown. */
export class FakeMenu extends EventEmitter implements Menu {
  readonly items: MenuItem[] = [];

  constructor(readonly template: Array<MenuItemConstructorOptions | MenuItem>) {
    super();
  }

  append(menuItem: MenuItem): void {
    this.items.push(menuItem);
  }

  insert(pos: number, menuItem: MenuItem): void {
    this.items.splice(pos, 0, menuItem);
  }

  getMenuItemById(id: string): MenuItem | null {
    return this.items.find((item) => item.id === id) ?? null;
  }

  popup(_options?: PopupOptions): void {}

  closePopup(_window?: BaseWindow): void {}
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
 * decoded as UTF-8 (the worst case for a Fetch Headers object). The whole of
 * Electron's ClientRequest: the options by `url` only, and not the 'error'
 * redirect mode (the plugin uses neither).
 */
export class FakeClientRequest extends EventEmitter implements ClientRequest {
  chunkedEncoding = false;
  aborted = false;
  private readonly headers: Record<string, string> = {};
  private readonly body: Buffer[] = [];
  private readonly options: { url: string; method: string; redirect: 'follow' | 'manual' };
  private current: http.ClientRequest | undefined;
  private follow = false;

  constructor(
    options: ClientRequestConstructorOptions | string,
    private readonly urls: string[],
  ) {
    super();
    const {
      url,
      method = 'GET',
      redirect = 'follow',
    } = typeof options === 'string' ? { url: options } : options;
    if (url === undefined) throw new Error('stand-in: net.request is modelled with a url only');
    if (redirect === 'error') throw new Error("stand-in: redirect: 'error' is not modelled");
    this.options = { url, method, redirect };
  }

  setHeader(name: string, value: string): void {
    this.headers[name.toLowerCase()] = value;
  }

  getHeader(name: string): string {
    // Electron answers undefined for a header not set, whatever its .d.ts says.
    return this.headers[name.toLowerCase()]!;
  }

  removeHeader(name: string): void {
    delete this.headers[name.toLowerCase()];
  }

  getUploadProgress(): UploadProgress {
    const total = this.body.reduce((sum, chunk) => sum + chunk.length, 0);
    const started = this.current !== undefined;
    return { active: started, started, current: started ? total : 0, total };
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

  write(chunk: string | Buffer, encoding = 'utf8', callback?: () => void): void {
    if (!Buffer.isEncoding(encoding)) throw new Error(`Unknown encoding: ${encoding}`);
    this.body.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
    callback?.();
  }

  end(chunk?: string | Buffer, encoding?: string, callback?: () => void): this {
    if (chunk !== undefined) this.write(chunk, encoding);
    this.go(this.options.url);
    callback?.();
    return this;
  }

  private go(url: string): void {
    this.urls.push(url);
    const { method } = this.options;
    const req = http.request(url, { method, headers: this.headers }, (res) => {
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
        this.emit('redirect', status, method, next, res.headers);
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
    if (this.body.length > 0) req.end(Buffer.concat(this.body));
    else req.end();
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
    app: asApp(app),
    ipcMain,
    protocol,
    BrowserWindow: asBrowserWindowClass(FakeBrowserWindow),
    // net.request: the system's network stack in Electron, node:http here.
    net: {
      request: (options: ClientRequestConstructorOptions | string) =>
        new FakeClientRequest(options, fetchCalls),
    } satisfies StandIn<Net, 'request'>,
    session: {
      fromPartition: (partition: string) => {
        partitions.push(partition);
        return asSession(session);
      },
    },
    Menu: {
      buildFromTemplate: (template: Array<MenuItemConstructorOptions | MenuItem>) => new FakeMenu(template),
      setApplicationMenu: (menu: Menu | null) => {
        menus.push(menu);
      },
    } satisfies StandIn<typeof Menu, 'buildFromTemplate' | 'setApplicationMenu'>,
  } satisfies DemoElectronParts;
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
    parts,
  };
}

/**
 * ipcRenderer for a page in `contents`: invoke goes through the registered
 * ipcMain handler, and what main sends to `contents` reaches its listeners
 * with an event object first, as in Electron.
 */
export function fakeIpcRenderer(
  ipcMain: FakeIpcMain,
  contents: FakeWebContents,
): Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'> {
  type Listener = Parameters<IpcRenderer['on']>[1];
  const relays = new Map<Listener, (channel: string, payload: unknown) => void>();
  const ipc: IpcRendererStandIn = {
    invoke: (channel: string, ...args: unknown[]) => ipcMain.invoke(contents, channel, args),
    on(channel: string, listener: Listener) {
      const relay = (ch: string, payload: unknown) => {
        if (ch === channel) listener(event, payload);
      };
      relays.set(listener, relay);
      contents.on('to-renderer', relay);
      return this;
    },
    removeListener(_channel: string, listener: Listener) {
      const relay = relays.get(listener);
      if (relay) contents.off('to-renderer', relay);
      relays.delete(listener);
      return this;
    },
  };
  const renderer = asIpcRenderer(ipc);
  const event: IpcRendererEvent = Object.assign(electronEvent(), { ports: [], sender: renderer });
  return renderer;
}

// --- the hand-overs: a stand-in as the whole Electron type -------------------
//
// The code under test declares whole Electron types where it keeps or passes
// on an object: setup returns BrowserWindows (its public API), a window's
// webPreferences.session is a Session, an IPC handler's event has a
// WebContents for its sender. Those have hundreds of members, and their event
// methods return `this`, which Pick<> pins to the whole type, so no stand-in
// is one. Each hand-over takes the stand-in as its checked type (the StandIn<>
// of what the code uses, which the stand-in's class implements) and returns
// the same object as the whole type. wholeElectron is the one cast.

function wholeElectron<Whole>(standIn: object): Whole {
  // Unchecked by design: the callers below take checked stand-in types, and nothing else calls this.
  return standIn as unknown as Whole;
}

export const asApp = (app: AppStandIn) => wholeElectron<App>(app);
export const asSession = (session: SessionStandIn) => wholeElectron<Session>(session);
export const asBrowserWindow = (win: BrowserWindowStandIn) => wholeElectron<BrowserWindow>(win);
export const asBrowserWindowClass = (
  ctor: (new (
    options: BrowserWindowConstructorOptions,
  ) => BrowserWindowStandIn) &
    StandIn<typeof BrowserWindow, 'fromWebContents'>,
) => wholeElectron<ElectronParts['BrowserWindow']>(ctor);
export const asNotificationClass = (
  ctor: (new (options?: NotificationConstructorOptions) => NotificationStandIn) & { isSupported(): boolean },
) => wholeElectron<NonNullable<ElectronParts['Notification']>>(ctor);
export const asPowerMonitor = (monitor: PowerMonitorStandIn) =>
  wholeElectron<NonNullable<ElectronParts['powerMonitor']>>(monitor);
const asInvokeEvent = (event: InvokeEventStandIn) => wholeElectron<IpcMainInvokeEvent>(event);
const asIpcRenderer = (ipc: IpcRendererStandIn) => wholeElectron<IpcRenderer>(ipc);
