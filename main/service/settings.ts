// The user's choices that outlive the app: where the cache lives after "Move
// cache to…", whether a sync runs at launch, the bandwidth cap. One small JSON
// file, replaced whole (temp file, fsync, rename), so a crash leaves the old
// choices or the new ones. Each field is judged on its own: one that is not
// valid counts as "not chosen" (the host's default applies) without taking the
// others with it, so a garbage `autoUpdate` never loses where the cache moved.
// Fields this version does not know are kept as they are (a newer version's).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { MIN_LIMIT_RATE } from '../../contract/status.js';
import { O_NOFOLLOW, O_NONBLOCK, writeFileAtomic } from '../engine/index.js';

const absolute = z.string().refine((p) => path.isAbsolute(p), 'an absolute path');

/** Each field's schema; a field is kept only when its own schema takes it. */
const FIELDS = {
  /** The cache root a move switched to. */
  root: absolute,
  /**
   * The roots moves left whose files are still to be removed (a crash came
   * between switch and delete, or the removal failed). One path alone, as an
   * app that records a single pointer writes it, counts as a list of one.
   */
  leaving: z.union([absolute.transform((p) => [p]), z.array(absolute).max(64)]),
  autoUpdate: z.boolean(),
  /** Bytes per second, or null: the user chose no cap (which overrides a host's default cap). */
  limitRate: z.number().min(MIN_LIMIT_RATE).nullable(),
};

export interface StoredSettings {
  root?: string;
  leaving?: string[];
  autoUpdate?: boolean;
  limitRate?: number | null;
}

/** A patch: a key set to undefined is removed from the file. */
export type SettingsPatch = { [K in keyof StoredSettings]?: StoredSettings[K] | undefined };

/** Far more than a few fields need: a larger file is not ours. */
const MAX_FILE_BYTES = 64 * 1024;

type Logger = { warn(...args: unknown[]): void };

/** The known fields that are valid, each on its own; what else the file holds; what was refused. */
function judge(data: unknown): { known: StoredSettings; other: Record<string, unknown>; refused: string[] } {
  const known: Record<string, unknown> = {};
  const other: Record<string, unknown> = {};
  const refused: string[] = [];
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return { known, other, refused: ['*'] };
  for (const [key, value] of Object.entries(data)) {
    const schema = (FIELDS as Record<string, z.ZodType>)[key];
    if (!schema) other[key] = value;
    else {
      const parsed = schema.safeParse(value);
      if (parsed.success) known[key] = parsed.data;
      else refused.push(key);
    }
  }
  return { known: known as StoredSettings, other, refused };
}

/**
 * The file's text, read without following a link and without blocking on a
 * FIFO (setup reads it before the app is ready: it must never hang the
 * start); undefined when there is none or it is not a small regular file.
 */
function readSettingsText(file: string): { text?: string; problem?: string } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? {} : { problem: (err as Error).message };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { problem: 'not a regular file' };
    if (st.size > MAX_FILE_BYTES) return { problem: `larger than ${MAX_FILE_BYTES} bytes` };
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    return { text: buf.subarray(0, n).toString('utf8') };
  } catch (err) {
    return { problem: (err as Error).message };
  } finally {
    closeSync(fd);
  }
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class SettingsStore {
  #current: StoredSettings;
  /** Writes go one after another: a change never overtakes an earlier one. */
  #writing: Promise<void> = Promise.resolve();

  /** `file` undefined: kept in memory only (the preview, tests, a host that keeps its own). */
  private constructor(
    readonly file: string | undefined,
    initial: StoredSettings,
    private readonly logger: Logger | undefined,
  ) {
    this.#current = initial;
  }

  /** Reads the file now (setup runs before the app is ready and needs the root at once). */
  static load(file: string | undefined, logger?: Logger): SettingsStore {
    if (file === undefined) return new SettingsStore(undefined, {}, logger);
    const { text, problem } = readSettingsText(file);
    if (problem !== undefined) {
      logger?.warn(`cannot read the settings file ${file}: ${problem}; using the defaults`);
      return new SettingsStore(file, {}, logger);
    }
    if (text === undefined) return new SettingsStore(file, {}, logger);
    const { known, refused } = judge(parseText(text));
    if (refused.length > 0) {
      const what = refused.includes('*') ? 'not a JSON object' : `${refused.join(', ')} not valid`;
      logger?.warn(
        `the settings file ${file} is not valid (${what}); those choices are the defaults until the next change replaces them`,
      );
    }
    return new SettingsStore(file, known, logger);
  }

  get current(): Readonly<StoredSettings> {
    return this.#current;
  }

  /** Settles when every change asked for so far is on disk, or has failed to get there. */
  settled(): Promise<void> {
    return this.#writing.then(
      () => {},
      () => {},
    );
  }

  /**
   * Applies `patch` on disk, then in memory: a change that could not be saved
   * is not in effect (a move's switch must not be believed by a later write).
   * The file is read again first and only the patched fields change, so
   * another process's changes to other fields (a second instance of the app)
   * are kept, and so are fields this version does not know; memory then
   * holds what the file holds.
   */
  update(patch: SettingsPatch): Promise<void> {
    // Checked now, as the file will hold it (a caller's bad value throws here, before any write).
    const checked: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(patch)) {
      const schema = (FIELDS as Record<string, z.ZodType>)[key];
      if (!schema) throw new TypeError(`not a setting: ${key}`);
      checked[key] = value === undefined ? undefined : schema.parse(value);
    }
    const file = this.file;
    const write = this.#writing.then(async () => {
      let onDisk: ReturnType<typeof judge> = { known: {}, other: {}, refused: [] };
      if (file !== undefined) {
        const text = await readFile(file, 'utf8').catch(() => undefined);
        if (text !== undefined) onDisk = judge(parseText(text));
      }
      // What the file says now (another process may have changed it), with the patch on top.
      const next: Record<string, unknown> = file === undefined ? { ...this.#current } : { ...onDisk.known };
      for (const [key, value] of Object.entries(checked)) {
        if (value === undefined) delete next[key];
        else next[key] = value;
      }
      if (file !== undefined)
        await writeFileAtomic(file, `${JSON.stringify({ ...onDisk.other, ...next }, null, 2)}\n`);
      this.#current = next as StoredSettings;
    });
    // The queue goes on after a failure; this caller still sees it.
    this.#writing = write.catch((err: unknown) => {
      this.logger?.warn(`the settings file ${file} could not be written: ${(err as Error).message}`);
    });
    return write;
  }
}
