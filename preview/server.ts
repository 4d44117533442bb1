// startPreview: the renderer in any browser, with everything behind it real.
// The page is the production build of renderer/ (plus the WebSocket bridge);
// the Node side runs the app's own VmCacheController and VmCacheHub; the
// bytes come from the project's artifact server with the demo manifest (or
// from VM_CACHE_MANIFEST_URL). Only the IPC transport differs from Electron.
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { contentSecurityPolicy } from '../contract/index.js';
import {
  defaultSenderPolicy,
  VmCacheController,
  VmCacheHub,
  type VmCacheLogger,
} from '../main/service/index.js';
import {
  type ArtifactServer,
  DEMO_THROTTLE_BYTES_PER_SEC,
  demoArtifacts,
  type GeneratedArtifact,
  startArtifactServer,
} from '../server/index.js';
import { attachBridge } from './bridge.js';
import { buildRenderer } from './build.js';
import { DeltaScenario, deltaSizeBytes } from './delta.js';
import { ErrorFaults } from './error-faults.js';
import { armFault, type FaultKind, isErrorFaultKind, isFaultKind, type ServerFaultKind } from './faults.js';
import { ManifestClock } from './manifest-clock.js';
import { sendFile, sendText } from './static.js';

export interface PreviewOptions {
  /** Port on 127.0.0.1. Default 0 (a free port). */
  port?: number;
  /** Cache root. Default: a temporary folder, removed by close(). */
  root?: string;
  /** Sync from here instead of the demo server. Default: VM_CACHE_MANIFEST_URL, else the demo server. */
  manifestUrl?: string;
  /** The demo server's artifacts. Default demoArtifacts() (its small set with `small`). */
  artifacts?: GeneratedArtifact[];
  /** A tiny, fast demo: a few MB instead of a few hundred. */
  small?: boolean;
  /** Per-response cap of the demo server. Default DEMO_THROTTLE_BYTES_PER_SEC (3 MB/s with `small`). */
  throttleBytesPerSec?: number;
  /** Arm this fault on the demo server before the first sync (`delta`: bring the cache to v1 first). */
  fault?: FaultKind;
  /**
   * Start a sync by itself, like the app's launch prefetch. `true` (default):
   * when the first page opens, the preview's "launch" (so a person who opens
   * the URL a minute later still sees the whole download); `'now'`: at once.
   */
  autoStart?: boolean | 'now';
  /** The engine's retry budget. Default 5, as in the app. */
  retries?: number;
  /** Bandwidth cap at start, in bytes per second (the page's "Download speed limit" changes it). Default none. */
  limitRate?: number;
  /**
   * The pages' language (a canonical BCP 47 tag): every page is served with
   * ?lang=TAG (a page asked for without one is redirected to it), which the
   * pages read. Default: the browser's language.
   */
  locale?: string;
  /** Seconds without a byte before a download counts as stalled and is retried. Default 6. */
  stallTimeoutSeconds?: number;
  /** Host arch as process.arch names it. Default process.arch. */
  rawHostArch?: string;
  /** Serve this already-built renderer instead of building one. */
  rendererDir?: string;
  /** Progress messages per second and page, as in the app. Default 10. */
  progressIntervalMs?: number;
  /** Engine log lines (state changes, errors) also go here. Default: only the log file. */
  logger?: VmCacheLogger;
  /**
   * What the preview's stand-in for the OS folder picker answers when the
   * settings page's "Move cache to…" asks (a browser page cannot show the
   * app's picker): this folder, or null as if the user closed the picker.
   * Default: a new empty folder in the preview's temp folder each time (with
   * `root`, beside that root, so a kept cache is never moved somewhere that
   * close() removes).
   */
  moveTo?: string | null;
}

export interface Preview {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly firstRunUrl: string;
  readonly settingsUrl: string;
  readonly root: string;
  readonly manifestUrl: string;
  readonly logPath: string;
  readonly controller: VmCacheController;
  readonly hub: VmCacheHub;
  /** The demo server, unless a manifest URL was given. */
  readonly artifactServer: ArtifactServer | undefined;
  /** Arms a fault on the demo server for the next download; returns the key it applies to. */
  armFault(kind: ServerFaultKind): string;
  /**
   * Arms `kind` where the cache is, without clearing it or starting a sync
   * (undefined: back to the plain demo, the last scenario undone): e.g. go
   * offline after a sync, then press Check for updates.
   */
  setFault(kind: FaultKind | undefined): Promise<void>;
  /**
   * Starts over: cancels the sync, clears the cache, arms `fault`, and syncs
   * again (when autoStart). With `delta`, a whole sync of v1 runs first (its
   * progress goes to the pages open by then), and the sync that follows is v2's.
   */
  reset(fault?: FaultKind): Promise<void>;
  close(): Promise<void>;
}

const MB = 1000 * 1000;

function fileLogger(logPath: string, also: VmCacheLogger | undefined): VmCacheLogger {
  const line = (level: string, args: unknown[]) => {
    const text = args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
    try {
      appendFileSync(logPath, `${new Date().toISOString()} [${level}] ${text}\n`);
    } catch {
      // The log is a convenience; a full disk must not break the preview.
    }
  };
  return {
    info: (...args) => {
      line('info', args);
      also?.info(...args);
    },
    warn: (...args) => {
      line('warn', args);
      also?.warn(...args);
    },
    error: (...args) => {
      line('error', args);
      also?.error(...args);
    },
  };
}

export async function startPreview(options: PreviewOptions = {}): Promise<Preview> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'vm-cache-preview-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rm(work, { recursive: true, force: true })];
  const runCleanups = async () => {
    while (cleanups.length > 0) await Promise.resolve(cleanups.pop()!()).catch(() => {});
  };
  try {
    return await start(options, work, cleanups, runCleanups);
  } catch (err) {
    await runCleanups();
    throw err;
  }
}

async function start(
  options: PreviewOptions,
  work: string,
  cleanups: Array<() => Promise<void> | void>,
  runCleanups: () => Promise<void>,
): Promise<Preview> {
  const rawHostArch = options.rawHostArch ?? process.arch;
  const retries = options.retries ?? 5;
  const autoStart = options.autoStart ?? true;
  /** The preview's "app launch" sync has been started (see autoStart). */
  let launched = false;

  const rendererDir = path.resolve(options.rendererDir ?? (await buildRenderer(path.join(work, 'renderer'))));

  const externalUrl = options.manifestUrl ?? (process.env.VM_CACHE_MANIFEST_URL?.trim() || undefined);
  let artifactServer: ArtifactServer | undefined;
  // The delta scenario's releases, served beside the generated artifacts (empty until it runs).
  const releasesDir = path.join(work, 'releases');
  // The demo is a signed one, as a real publisher's should be: the server signs every manifest
  // it publishes with this key, and the engine trusts only it (the wrong-key fault signs with another).
  const publisher = externalUrl ? undefined : generateKeyPairSync('ed25519');
  if (!externalUrl) {
    await mkdir(releasesDir);
    artifactServer = await startArtifactServer({
      signingKey: publisher!.privateKey,
      dir: releasesDir,
      artifacts: options.artifacts ?? demoArtifacts({ small: options.small === true }),
      throttleBytesPerSec:
        options.throttleBytesPerSec ?? (options.small ? 3 * MB : DEMO_THROTTLE_BYTES_PER_SEC),
    });
    const s = artifactServer;
    cleanups.push(() => s.close());
  }
  const manifestUrl = externalUrl ?? artifactServer!.manifestUrl;

  const root = options.root ? path.resolve(options.root) : path.join(work, 'root');
  const logPath = path.join(work, 'vm-cache.log');
  const logger = fileLogger(logPath, options.logger);
  const controller = new VmCacheController({
    root,
    manifestUrl,
    retries,
    rawHostArch,
    logPath,
    logger,
    ...(publisher ? { publicKey: publisher.publicKey } : {}),
    ...(options.limitRate === undefined ? {} : { limitRate: options.limitRate }),
    engine: { stallTimeoutMs: (options.stallTimeoutSeconds ?? 6) * 1000 },
  });
  cleanups.push(() => controller.cancel().then(() => {}));

  // The origin is known once the port is: the sender policy reads it then.
  const allowedOrigins = new Set<string>();
  let origin = '';
  const senderPolicy = { check: defaultSenderPolicy([]) };
  let moves = 0;
  const hub = new VmCacheHub({
    controller,
    isAllowedSender: (sender) => senderPolicy.check(sender),
    pickFolder: async () => {
      if (options.moveTo !== undefined) return options.moveTo === null ? null : path.resolve(options.moveTo);
      moves++;
      // A root the user keeps (--root) moves beside it, never into the temp folder close() removes.
      return options.root
        ? `${path.resolve(options.root)}-moved-${moves}`
        : path.join(work, `moved-${moves}`);
    },
    ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
    logger: { warn: (...args: unknown[]) => options.logger?.warn(...args) },
  });
  cleanups.push(() => hub.dispose());

  const demoServer = (): ArtifactServer => {
    if (!artifactServer) throw new Error('faults need the demo server; unset VM_CACHE_MANIFEST_URL');
    return artifactServer;
  };
  const fault = (kind: ServerFaultKind): string => armFault(demoServer(), kind, rawHostArch, retries);
  const clock = new ManifestClock();
  let delta: DeltaScenario | undefined;
  let errors: ErrorFaults | undefined;
  /** Arms `kind` (undefined: the plain demo), after whatever the last scenario armed is undone. */
  const arm = async (kind: FaultKind | undefined): Promise<void> => {
    delta?.disarm();
    errors?.disarm();
    if (isErrorFaultKind(kind)) {
      errors ??= new ErrorFaults({
        server: demoServer(),
        clock,
        rawHostArch,
        root,
        trustedKey: publisher!.privateKey,
      });
      // The controller's own sync for the `-cached` kinds, so a clear or Cancel stops it like any other.
      await errors.arm(kind, () => controller.sync());
      logger.info(`fault armed: ${kind}`);
    } else if (kind === 'delta') {
      delta ??= new DeltaScenario({
        server: demoServer(),
        dir: releasesDir,
        rawHostArch,
        sizeBytes: deltaSizeBytes(options.small === true),
        clock,
      });
      logger.info('delta scenario: syncing v1 first');
      // The controller's own sync, so a clear or Cancel stops it like any other.
      const key = await delta.arm(() => controller.sync());
      logger.info(`delta scenario: v2 published (${key}); the next sync updates by delta`);
    } else if (kind) {
      fault(kind);
    }
  };
  // One reset at a time: two quick ?fault= loads must not interleave a delta's v1 and v2.
  let resetting = Promise.resolve();
  const reset = (kind?: FaultKind): Promise<void> => {
    const run = async () => {
      await controller.clear(); // cancels the sync in flight first
      await arm(kind);
      if (autoStart) {
        launched = true;
        void controller.prefetch();
      }
    };
    const done = resetting.then(run, run);
    resetting = done.catch(() => {});
    return done;
  };

  /** A page's path with ?lang= when the preview has a locale. */
  const withLocale = (page: string): string => {
    if (!options.locale) return page;
    const target = new URL(page, 'http://127.0.0.1');
    target.searchParams.set('lang', options.locale);
    return `${target.pathname}${target.search}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // DNS rebinding: only our own host names, never whatever a resolver points here.
    if (!allowedOrigins.has(`http://${req.headers.host ?? ''}`)) return sendText(res, 421, 'wrong host\n');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      return sendText(res, 405, 'method not allowed\n');
    }
    const requested = url.searchParams.get('fault');
    // Resetting clears the cache root (which --root may point at a real one):
    // only a person at this preview (typed URL, its own pages, curl) may, never
    // another site's link or form. Browsers say where a request came from.
    const site = req.headers['sec-fetch-site'];
    const fromElsewhere =
      site === 'cross-site' ||
      site === 'same-site' ||
      (req.headers.origin !== undefined && !allowedOrigins.has(req.headers.origin));
    if (url.pathname === '/__preview/fault') {
      // The control endpoint: POST only, so a link or an <img> cannot reset the demo.
      if (req.method !== 'POST') return sendText(res, 405, 'POST /__preview/fault?fault=KIND\n');
      if (fromElsewhere) return sendText(res, 403, 'not from another site\n');
      if (requested !== 'none' && !isFaultKind(requested)) return sendText(res, 400, 'unknown fault\n');
      await reset(requested === 'none' ? undefined : requested);
      return sendText(res, 200, JSON.stringify({ fault: requested }), 'application/json');
    }
    if (url.pathname === '/') {
      res.writeHead(302, { location: withLocale(`/first-run.html${url.search}`) });
      res.end();
      return;
    }
    if (options.locale && url.pathname.endsWith('.html') && !url.searchParams.has('lang')) {
      res.writeHead(302, { location: withLocale(`${url.pathname}${url.search}`) });
      res.end();
      return;
    }
    if (url.pathname.endsWith('.html') && requested !== null && !fromElsewhere) {
      // `?fault=KIND` on a page: replay that scenario from an empty cache, so
      // the state shows even after the first sync has finished.
      if (requested === 'none' || isFaultKind(requested)) {
        await reset(requested === 'none' ? undefined : requested);
      }
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    // The app's own policy (as a header, on top of the pages' <meta>), with the
    // bridge's socket as the one allowed connection: if the panel works here, it
    // works under Electron's stricter-than-meta header.
    const headers = { 'content-security-policy': contentSecurityPolicy(origin) };
    if (!(await sendFile(rendererDir, url.pathname, res, headers))) sendText(res, 404, 'not found\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendText(res, 500, `${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  origin = url;
  allowedOrigins.add(url);
  allowedOrigins.add(`http://localhost:${port}`);
  senderPolicy.check = defaultSenderPolicy([...allowedOrigins]);

  const launch = () => {
    if (launched || !autoStart) return;
    launched = true;
    // As the app's launch: a download paused in an earlier run (a --root kept) stays paused.
    void controller.isPaused().then((paused) => {
      if (!paused) void controller.prefetch();
    });
  };
  const bridge = attachBridge(server, { hub, allowedOrigins, onConnection: launch });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        bridge.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  if (options.fault) await arm(options.fault);
  if (autoStart === 'now') launch();

  return {
    url,
    firstRunUrl: `${url}${withLocale('/first-run.html')}`,
    settingsUrl: `${url}${withLocale('/settings.html')}`,
    root,
    manifestUrl,
    logPath,
    controller,
    hub,
    artifactServer,
    armFault: fault,
    setFault: (kind) => {
      // In turn with resets, as they arm too.
      const done = resetting.then(() => arm(kind));
      resetting = done.catch(() => {});
      return done;
    },
    reset,
    close: runCleanups,
  };
}
