// Failures as the CLI reports them: one stable code, one line a person can act
// on, and the exit code from the table.
import path from 'node:path';
// The engine's errors entry, not its index: every run loads this file, and
// `vm-cache --version` or `--help` should not pay for loading got and zod
// (125 -> 338 ms for `--version` when this line named the index).
import { DiskFullError, fsError, VmCacheError } from '../main/engine/errors.js';
import { type AnyErrorCode, type CliErrorCode, exitCodeFor } from './exit-codes.js';

/** A failure found by the CLI itself (not the engine). */
export class CliError extends Error {
  readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
  }
}

/** Bad flags or arguments: exit 2, with a hint of what to run instead. */
export class UsageError extends CliError {
  constructor(message: string) {
    super('ERR_USAGE', message);
    this.name = 'UsageError';
  }
}

export interface Reported {
  code: AnyErrorCode;
  message: string;
  exitCode: number;
}

/** Any thrown value, as code + message + exit code. */
export function report(err: unknown, where = process.cwd()): Reported {
  let code: AnyErrorCode;
  let message: string;
  if (err instanceof VmCacheError || err instanceof CliError) {
    code = err.code;
    message = err.message;
  } else if (typeof (err as NodeJS.ErrnoException | undefined)?.code === 'string' && err instanceof Error) {
    // A raw fs error from the CLI's own file work, mapped as the engine maps its
    // own: ENOSPC becomes "disk full", the rest I/O (with the error's own words).
    const errno = err as NodeJS.ErrnoException;
    const coded = fsError(err.message, errno.path ? path.dirname(errno.path) : where, err);
    code = coded.code;
    message = coded instanceof DiskFullError ? coded.message : err.message;
  } else {
    code = 'ERR_INTERNAL';
    message = err instanceof Error ? err.message : String(err);
  }
  return { code, message: message.replace(/\s*\n\s*/g, ' '), exitCode: exitCodeFor(code) };
}
