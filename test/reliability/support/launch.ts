// A sync in another process, as a user's app or terminal would run it: the
// `vm-cache` CLI (`sync --json`), or the engine's own test child
// (test/engine/fixtures/sync-child.ts) when the CLI is not there. Both print
// JSON lines; this reads them as they come, so a test can act on a phase.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type Launcher = 'cli' | 'sync-child';

const CLI = fileURLToPath(new URL('../../../cli/vm-cache.mjs', import.meta.url));
const SYNC_CHILD = fileURLToPath(new URL('../../engine/fixtures/sync-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface SyncOutcome {
  launcher: Launcher;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Distinct phases in the order reported. */
  phases: string[];
  /**
   * Distinct steps in the order reported: the phase, and for the CLI (whose
   * events carry the artifacts) their states, e.g. 'downloading/verifying'.
   */
  steps: string[];
  /** The result object, when the sync succeeded. */
  result?: { downloaded: string[]; manifestPath: string; skipped: boolean };
  /** The error code, when the sync failed. */
  error?: string;
  errorMessage?: string;
  /** sync-child only: all in-process calls shared one promise. */
  shared?: boolean;
  stderr: string;
  ms: number;
  /** Time from spawn to the first JSON line: process start-up, tsx, the engine's first event. */
  firstLineMs?: number;
}

export interface SyncRun {
  pid: number | undefined;
  child: ChildProcess;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves once `test` holds for a step reported (or already reported); see SyncOutcome.steps. */
  waitForStep(test: (step: string) => boolean, timeoutMs: number): Promise<void>;
  done: Promise<SyncOutcome>;
}

/** True when `node cli/vm-cache.mjs sync --help` works and offers --json. */
export function cliAvailable(): boolean {
  const r = spawnSync(process.execPath, [CLI, 'sync', '--help'], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 30_000,
    env: cleanEnv(),
  });
  return r.status === 0 && r.stdout.includes('--json') && r.stdout.includes('--root');
}

/** The environment without VM_CACHE_*: every run says root and URL explicitly. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VM_CACHE_')) env[k] = v;
  return env;
}

export function startSyncProcess(
  launcher: Launcher,
  options: { root: string; manifestUrl: string; retries?: number; concurrentCalls?: number },
): SyncRun {
  const args =
    launcher === 'cli'
      ? [CLI, 'sync', '--manifest', options.manifestUrl, '--root', options.root, '--json']
      : [
          '--import',
          'tsx',
          SYNC_CHILD,
          options.root,
          options.manifestUrl,
          String(options.concurrentCalls ?? 1),
        ];
  if (launcher === 'cli' && options.retries !== undefined) args.push('--retries', String(options.retries));
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const outcome: SyncOutcome = {
    launcher,
    code: null,
    signal: null,
    phases: [],
    steps: [],
    stderr: '',
    ms: 0,
  };
  const waiters = new Set<() => void>();
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    if (lines.length > 0) outcome.firstLineMs ??= Math.round(performance.now() - t0);
    for (const line of lines) readLine(outcome, line);
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    outcome.stderr += chunk;
  });
  const done = new Promise<SyncOutcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      readLine(outcome, pending);
      outcome.code = code;
      outcome.signal = signal;
      outcome.ms = Math.round(performance.now() - t0);
      for (const w of waiters) w();
      resolve(outcome);
    });
  });
  return {
    pid: child.pid,
    child,
    kill: (signal = 'SIGKILL') => {
      child.kill(signal);
    },
    waitForStep(test, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (outcome.steps.some(test)) finish(resolve);
          else if (child.exitCode !== null || child.signalCode !== null)
            finish(() =>
              reject(
                new Error(
                  `the sync exited before that step; steps: ${outcome.steps.join(' ')}; ${outcome.stderr}`,
                ),
              ),
            );
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`step not reached in ${timeoutMs} ms; steps: ${outcome.steps.join(' ')}`)),
            ),
          timeoutMs,
        );
        const finish = (then: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          then();
        };
        waiters.add(check);
        check();
      });
    },
    done,
  };
}

function readLine(outcome: SyncOutcome, line: string): void {
  if (!line.startsWith('{')) return;
  let msg: Record<string, unknown>;
  try {
    msg = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return; // the last line of a killed process may be cut short
  }
  if (typeof msg.phase === 'string') {
    if (outcome.phases.at(-1) !== msg.phase) outcome.phases.push(msg.phase);
    const states = Array.isArray(msg.artifacts)
      ? (msg.artifacts as Array<{ state?: unknown }>).map((a) => String(a.state)).join(',')
      : '';
    const step = states ? `${msg.phase}/${states}` : msg.phase;
    if (outcome.steps.at(-1) !== step) outcome.steps.push(step);
  }
  // The CLI's result line is the result itself (its fields beside `type`); JSON, taken on trust as below.
  if (msg.type === 'result') outcome.result = msg as SyncOutcome['result'];
  if (msg.result && typeof msg.result === 'object') {
    outcome.result = msg.result as SyncOutcome['result'];
    outcome.shared = msg.shared === true;
  }
  if (msg.type === 'error' && typeof msg.code === 'string') {
    outcome.error = msg.code;
    outcome.errorMessage = String(msg.message);
  }
  if (typeof msg.error === 'string') {
    outcome.error = msg.error;
    outcome.errorMessage = String(msg.message);
  }
}
