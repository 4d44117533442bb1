// Flag parsing on node:util parseArgs, strict: an unknown flag or a missing
// value is a usage error (exit 2) that says what to run instead.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: Values;
  positionals: string[];
}

/**
 * Parses `argv` for command `name`. `positionals` names the expected
 * positional arguments, for the error messages.
 */
export function parse(
  name: string,
  argv: string[],
  options: Options,
  positionals: { min: number; max: number; what: string } = { min: 0, max: 0, what: '' },
): Parsed {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(
      `${name}: ${tidy((err as Error).message)}; run \`vm-cache ${name} --help\` for usage`,
    );
  }
  const given = parsed.positionals;
  if (given.length < positionals.min) {
    throw new UsageError(`${name}: missing ${positionals.what}; run \`vm-cache ${name} --help\` for usage`);
  }
  if (given.length > positionals.max) {
    const extra = given
      .slice(positionals.max)
      .map((p) => JSON.stringify(p))
      .join(' ');
    throw new UsageError(`${name}: unexpected argument ${extra}; run \`vm-cache ${name} --help\` for usage`);
  }
  return { values: parsed.values as Values, positionals: given };
}

// parseArgs' messages carry advice for scripts ("To specify a positional
// argument ... use --"); say the same thing in one clause instead.
function tidy(message: string): string {
  const option = /Option '(--?[\w-]+)/.exec(message)?.[1];
  if (option && /ambiguous|argument missing/.test(message)) return `option ${option} needs a value`;
  if (option && /does not take an argument/.test(message)) return `option ${option} takes no value`;
  const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
  if (unknown) return `unknown option ${unknown}`;
  return (message.split(/\.\s/)[0] ?? message).replace(/\.$/, '');
}

/** Every value of a repeatable flag (`multiple: true`), in the order given. */
export function strs(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function bool(values: Values, name: string): boolean {
  return values[name] === true;
}

export function requireStr(command: string, values: Values, name: string): string {
  const v = str(values, name);
  if (v === undefined || v === '') {
    throw new UsageError(`${command}: --${name} is required; run \`vm-cache ${command} --help\` for usage`);
  }
  return v;
}

export function int(
  command: string,
  values: Values,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = str(values, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(
      `${command}: --${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`,
    );
  }
  return Number(v);
}

/** `--root DIR`, else the engine's default (VM_CACHE_ROOT, else the platform cache folder). */
export function rootOf(values: Values): string | undefined {
  const v = str(values, 'root');
  return v === undefined ? undefined : path.resolve(v);
}

/** True when argv asks for help (before any `--`). */
export function wantsHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/**
 * A key argument is a file holding the key or the key itself (PEM, or the raw
 * 32 bytes in base64 or hex). Returns the key text; the engine parses it.
 */
export async function keyText(command: string, flag: string, value: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  if (value.includes('-----BEGIN')) return value;
  if (existsSync(value)) return readFile(value, 'utf8');
  if (/^[A-Za-z0-9+/]{43}=$/.test(value) || /^[0-9a-fA-F]{64}$/.test(value)) return value;
  throw new UsageError(
    `${command}: --${flag} ${JSON.stringify(value)} is neither a key file nor a key (PEM, or the 32-byte key in base64 or hex as \`vm-cache keygen\` prints it)`,
  );
}

export const COMMON = {
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;
