// What the bench processes say to each other. The server and every engine run
// live in their own processes, so nothing here may hold a function or a stream.

import type { Fault } from '../server/types.js';

/** The one artifact every benchmark downloads. x64 so the engine child can pin rawHostArch. */
export const BENCH_ARTIFACT = { agent: 'bench', version: '1', arch: 'x64' } as const;

/** First stdout line of server-process. */
export interface ServerReady {
  url: string;
  manifestUrl: string;
  key: string;
  sha256: string;
  sizeBytes: number;
}

export type ServerCommand =
  | { id: number; op: 'setFault'; key: string; fault: Fault | undefined }
  | { id: number; op: 'bytesServed'; key: string }
  /** User + system CPU the server process has used so far (ms): it shares the two cores. */
  | { id: number; op: 'cpuMs' };

export interface ServerReply {
  id: number;
  value?: number;
  error?: string;
}

/** argv[2] of engine-run, as JSON. */
export interface EngineJob {
  mode: 'sync' | 'usual';
  transport: 'got' | 'fetch';
  manifestUrl: string;
  /** The tarball's key, URL and sha256: the usual approach has no manifest logic. */
  key: string;
  url: string;
  sha256: string;
  root: string;
  /** A failed sync is what the job expects (the first half of the resume benchmark). */
  expectFailure?: boolean;
  /** The engine's `delta` option (default true); false downloads every tarball whole (bench:delta). */
  delta?: boolean;
  /** The engine's `limitRate` option (bytes per second over the sync; bench:network). */
  limitRate?: number;
  /** The engine's `connections` option (bench:network: 1 for one connection, else the default). */
  connections?: number;
}

/** A cold-sync job for the bench artifact, with got unless `extra` says otherwise. */
export function syncJob(info: ServerReady, root: string, extra: Partial<EngineJob> = {}): EngineJob {
  return {
    mode: 'sync',
    transport: 'got',
    manifestUrl: info.manifestUrl,
    key: info.key,
    url: `${info.url}/${info.key}`,
    sha256: info.sha256,
    root,
    ...extra,
  };
}

/**
 * manifest: the artifacts are listed (manifest fetched and parsed); downloading: the tarball
 * request starts; received: the last byte is in and hashed; flushed: fsync and rename done.
 */
export type Mark = 'manifest' | 'downloading' | 'received' | 'flushed';

/** The last stdout line of engine-run. */
export interface EngineResult {
  ok: boolean;
  error?: string;
  errorCode?: string;
  /** Call to resolve (ms), inside the process: node start-up and imports are not counted. */
  totalMs: number;
  downloaded?: string[];
  skipped?: boolean;
  /** VmHWM right before the call and at the end (bytes): the kernel's own peak RSS. */
  hwmBeforeBytes: number;
  hwmBytes: number;
  /** User and system CPU of this process (all its threads) during the call (ms). */
  userMs: number;
  systemMs: number;
  /** Page faults that needed no disk: first touches of memory, which are dear on this VM. */
  minorFaults: number;
  /** Times the kernel took a CPU away from this process: the machine was busy. */
  preemptions: number;
  /** Progress events, ms since the call. */
  eventTimes: number[];
  /** The events that only moved bytes (same phase and states as the one before): the throttled ones. */
  tickTimes: number[];
  /** Progress messages the IPC hub sent to a subscribed window, ms since the call. */
  windowTimes: number[];
  /** The phase of the window's last message ('done' when the trailing edge delivered it). */
  windowLastPhase?: string;
  /** When each stage was first seen (ms since the call): what the sync spent its time on. */
  marks: Partial<Record<Mark, number>>;
  /** Size of `<key>.partial` after a failed sync (resume). */
  partialBytes?: number;
  /** The last `delta` progress of the first artifact: what the engine planned, or why it fell back. */
  delta?: { reuseBytes: number; fetchBytes: number; reusedBytes: number; fallback?: string };
}
