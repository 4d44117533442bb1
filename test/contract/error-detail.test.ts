// An error's figures on their way to a page: the engine's disk-full error
// carries the folder and the bytes it needed and had, the progress event and
// a failed call's answer carry them as the contract's `detail`, and anything
// that is not one of the contract's shapes is refused (the schema) or left
// behind (the hub), so a page only ever words figures that are figures.
import { describe, expect, it } from 'vitest';
import { FailureSchema } from '../../contract/api.js';
import { ErrorInfoSchema } from '../../contract/errors.js';
import { DiskFullError, errorInfoOf, fsError, VmCacheError } from '../../main/engine/errors.js';
import type { VmCacheController } from '../../main/service/controller.js';
import { VmCacheHub } from '../../main/service/hub.js';

const DETAIL = {
  kind: 'disk-space',
  path: '/var/cache/app/cache',
  neededBytes: 2_100_000_000,
  freeBytes: 1e9,
};

describe('error detail', () => {
  it('the schema takes a disk-space detail and refuses anything else', () => {
    const info = { code: 'ERR_DISK_FULL', message: 'disk full', detail: DETAIL };
    expect(ErrorInfoSchema.parse(info)).toEqual(info);
    expect(ErrorInfoSchema.parse({ code: 'ERR_IO', message: 'x' })).toEqual({ code: 'ERR_IO', message: 'x' });
    for (const detail of [
      { ...DETAIL, kind: 'disk' },
      { ...DETAIL, neededBytes: -1 },
      { ...DETAIL, freeBytes: 1.5 },
      { ...DETAIL, freeBytes: Number.POSITIVE_INFINITY },
      { ...DETAIL, neededBytes: '2 GB' },
      { ...DETAIL, path: '' },
      { ...DETAIL, path: 'x'.repeat(5000) },
      { ...DETAIL, path: 42 },
      { path: '/x', neededBytes: 1, freeBytes: 0 },
      'disk full',
      null,
    ]) {
      expect(
        ErrorInfoSchema.safeParse({ code: 'ERR_DISK_FULL', message: 'm', detail }).success,
        JSON.stringify(detail),
      ).toBe(false);
    }
    expect(
      FailureSchema.parse({ ok: false, code: 'ERR_DISK_FULL', message: 'm', detail: DETAIL }).detail,
    ).toEqual(DETAIL);
  });

  it('the engine’s disk-full error carries its figures only when it knows them', () => {
    const known = new DiskFullError('/var/cache/app/cache', 2_100_000_000, 1e9);
    expect(known.message).toBe(
      'disk full at /var/cache/app/cache: 2.10 GB needed, 1.00 GB free; free some space and retry',
    );
    expect(errorInfoOf(known)).toEqual({ code: 'ERR_DISK_FULL', message: known.message, detail: DETAIL });
    expect(ErrorInfoSchema.parse(errorInfoOf(known))).toEqual(errorInfoOf(known));
    // ENOSPC mid-write: no figures to give, so none are made up.
    const midWrite = fsError(
      'write',
      '/var/cache/app/cache',
      Object.assign(new Error('no space'), { code: 'ENOSPC' }),
    );
    expect(midWrite.code).toBe('ERR_DISK_FULL');
    expect(errorInfoOf(midWrite as VmCacheError)).toEqual({
      code: 'ERR_DISK_FULL',
      message: midWrite.message,
    });
  });

  it('a failed call’s answer keeps the figures; a detail of no known shape is left behind', async () => {
    const answer = async (err: unknown) => {
      const controller = { sync: () => Promise.reject(err) } as unknown as VmCacheController;
      const hub = new VmCacheHub({ controller, isAllowedSender: () => true });
      const sender = { id: 1, url: 'app://page', isMainFrame: true };
      return hub.invoke('vm-cache:sync', [], sender, () => {});
    };
    const full = new DiskFullError('/var/cache/app/cache', 2_100_000_000, 1e9);
    expect(await answer(full)).toEqual({
      ok: false,
      code: 'ERR_DISK_FULL',
      message: full.message,
      detail: DETAIL,
    });

    const forged = new VmCacheError('ERR_DISK_FULL', 'disk full', {
      detail: { kind: 'disk-space', path: '/x', neededBytes: 'lots' } as never,
    });
    expect(await answer(forged)).toEqual({ ok: false, code: 'ERR_DISK_FULL', message: 'disk full' });
    // An error that is not the engine's is internal, whatever it carries.
    const stray = Object.assign(new Error('boom'), { detail: DETAIL });
    expect(await answer(stray)).toEqual({ ok: false, code: 'ERR_INTERNAL', message: 'boom' });
  });
});
