// Where the CLI writes: results on stdout (one JSON object per line in JSON
// mode), messages and errors on stderr as `vm-cache: <message>`.
import { type Reported, report } from './errors.js';

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env };

export class Output {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  /** One JSON object on one line (JSON mode). */
  line(obj: Record<string, unknown>): void {
    this.io.stdout.write(`${JSON.stringify(obj)}\n`);
  }

  /** Text for people on stdout (ignored in JSON mode). */
  text(s: string): void {
    if (!this.json) this.io.stdout.write(`${s}\n`);
  }

  /** A note for people on stderr, in both modes (never mixed into JSON stdout). */
  note(s: string): void {
    this.io.stderr.write(`vm-cache: ${s}\n`);
  }

  /** Reports a failure: one line on stderr, plus a JSON error line in JSON mode. Returns the exit code. */
  fail(err: unknown): number {
    const r: Reported = report(err);
    this.io.stderr.write(`vm-cache: ${r.message}\n`);
    if (this.json) this.line({ type: 'error', code: r.code, message: r.message, exitCode: r.exitCode });
    return r.exitCode;
  }
}

/**
 * An AbortSignal fired by Ctrl-C (SIGINT) or SIGTERM. A second Ctrl-C while the
 * first is being honoured exits at once with 130.
 */
export function cancelOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
