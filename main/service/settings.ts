// The user's choices that outlive the app: where the cache lives after "Move
// cache to…", whether a sync runs at launch, the bandwidth cap. One small JSON
// file, replaced whole (temp file, fsync, rename), so a crash leaves the old
// choices or the new ones. A file that is missing, unreadable or not ours
// counts as "nothing chosen": the host's defaults apply and the cache is used
// where the host puts it, never lost to a garbage pointer.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { MIN_LIMIT_RATE } from '../../contract/status.js';
import { writeFileAtomic } from '../engine/index.js';

const StoredSettingsSchema = z.object({
  /** The cache root a move switched to (absolute). */
  root: z
    .string()
    .refine((p) => path.isAbsolute(p), 'an absolute path')
    .optional(),
  /** The root a move left, whose files are still to be removed (a crash came between switch and delete). */
  leaving: z
    .string()
    .refine((p) => path.isAbsolute(p), 'an absolute path')
    .optional(),
  autoUpdate: z.boolean().optional(),
  /** Bytes per second, or null: the user chose no cap (which overrides a host's default cap). */
  limitRate: z.number().min(MIN_LIMIT_RATE).nullable().optional(),
});
export type StoredSettings = z.infer<typeof StoredSettingsSchema>;

/** A patch: a key set to undefined is removed from the file. */
export type SettingsPatch = { [K in keyof StoredSettings]?: StoredSettings[K] | undefined };

export class SettingsStore {
  #current: StoredSettings;
  /** Writes go one after another, each the whole file: the last patch wins on disk as in memory. */
  #writing: Promise<void> = Promise.resolve();

  /** `file` undefined: kept in memory only (the preview, tests, a host that keeps its own). */
  private constructor(
    readonly file: string | undefined,
    initial: StoredSettings,
  ) {
    this.#current = initial;
  }

  /** Reads the file now (setup runs before the app is ready and needs the root at once). */
  static load(file: string | undefined, logger?: { warn(...args: unknown[]): void }): SettingsStore {
    if (file === undefined) return new SettingsStore(undefined, {});
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        logger?.warn(`cannot read the settings file ${file}: ${(err as Error).message}; using the defaults`);
      return new SettingsStore(file, {});
    }
    let data: unknown;
    let problem: string | undefined;
    try {
      data = JSON.parse(text);
    } catch {
      problem = 'not JSON';
    }
    const parsed = StoredSettingsSchema.safeParse(data);
    if (problem !== undefined || !parsed.success) {
      const why = problem ?? parsed.error?.issues[0]?.message ?? 'not settings';
      logger?.warn(
        `the settings file ${file} is not valid (${why}); using the defaults, and the next change of a setting replaces it`,
      );
      return new SettingsStore(file, {});
    }
    return new SettingsStore(file, parsed.data);
  }

  get current(): Readonly<StoredSettings> {
    return this.#current;
  }

  /** Settles when every change asked for so far is on disk, or has failed to get there. */
  settled(): Promise<void> {
    return this.#writing;
  }

  /** Applies `patch` in memory at once and on disk before the promise settles (a failed write rejects). */
  update(patch: SettingsPatch): Promise<void> {
    const next: StoredSettings = { ...this.#current };
    for (const [key, value] of Object.entries(patch) as [keyof StoredSettings, unknown][]) {
      if (value === undefined) delete next[key];
      else (next as Record<string, unknown>)[key] = value;
    }
    this.#current = StoredSettingsSchema.parse(next);
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    const text = `${JSON.stringify(this.#current, null, 2)}\n`;
    const write = this.#writing.then(() => writeFileAtomic(file, text));
    // The queue goes on after a failure; this caller still sees it.
    this.#writing = write.catch(() => {});
    return write;
  }
}
