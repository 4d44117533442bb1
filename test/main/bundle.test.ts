// The package's built preload (dist/preload/index.cjs, from `npm run build`,
// which npm test runs first): it must run as a sandboxed preload does, so the
// contract's channel table has to be inside it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';
import { expectVmCacheOnly } from './sandboxed-preload.js';

const preloadFile = path.resolve(import.meta.dirname, '../../dist/preload/index.cjs');

describe('the built preload (dist/preload/index.cjs)', () => {
  it('runs with a sandbox-style require that offers only electron, and exposes vmCache alone', async () => {
    if (!existsSync(preloadFile)) throw new Error('dist/ is not built: run `npm run build` first');
    await expectVmCacheOnly(preloadFile);
  });
});
