// `manifest build --manifest-version N --expires-in DAYS`: the two signed
// fields the engine's rollback and freeze protection read.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { tempRoot } from '../helpers.js';
import { expectCode, runCli, writeTarballs } from './helpers.js';

// The test runs the real CLI as child processes, one after another, each about a second of
// CPU (tsx compiles the sources on the fly): 9 s on a loaded 2-core machine. The timeout
// is no speed check: it only has to end a hang.
vi.setConfig({ testTimeout: 120_000 });

describe('manifest build: manifestVersion and expiresAt', () => {
  it('writes both when asked, neither by default, and refuses values that are not whole numbers', async () => {
    const dir = await tempRoot();
    await writeTarballs(dir, [{ agent: 'openclaw', version: '1.0.0', arch: 'x64', size: 1000 }]);
    const out = path.join(dir, 'vm', 'manifest.json');
    const before = Date.now();
    expectCode(
      await runCli([
        'manifest',
        'build',
        dir,
        '--out',
        out,
        '--manifest-version',
        '12',
        '--expires-in',
        '30',
      ]),
      0,
    );
    const doc = JSON.parse(await readFile(out, 'utf8')) as { manifestVersion?: number; expiresAt?: string };
    expect(doc.manifestVersion).toBe(12);
    const expires = Date.parse(doc.expiresAt!);
    expect(expires).toBeGreaterThanOrEqual(before + 30 * 86_400_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000);

    expectCode(await runCli(['manifest', 'build', dir, '--out', out]), 0);
    const plain = JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(plain)).toEqual(['schemaVersion', 'updatedAt', 'agents']);

    const bad = await runCli(['manifest', 'build', dir, '--out', out, '--manifest-version', '1.5']);
    expectCode(bad, 2);
    expect(bad.stderr).toContain('--manifest-version must be a whole number');
    expectCode(await runCli(['manifest', 'build', dir, '--out', out, '--expires-in', '0']), 2);
  });
});
