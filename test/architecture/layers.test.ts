// The layers of docs/architecture.md are enforced by Biome's
// noRestrictedImports (biome.json, one override per folder), so `npm test`
// (whose lint step runs it) fails on an import that goes the wrong way.
// Each case writes a probe file into the layer's folder, lints it with the
// repository's own configuration, and removes it again.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIOME = path.join(REPO, 'node_modules', '.bin', 'biome');

/** Lints one import written in `folder`; resolves to the rule's message, or undefined when allowed. */
async function lintImport(folder: string, specifier: string): Promise<string | undefined> {
  const file = path.join(REPO, folder, `layer-probe-${randomBytes(4).toString('hex')}.ts`);
  await writeFile(file, `import * as probe from '${specifier}';\n\nexport const used = probe;\n`);
  try {
    await promisify(execFile)(
      BIOME,
      ['lint', '--only=style/noRestrictedImports', '--only=correctness/noNodejsModules', file],
      { cwd: REPO },
    );
    return undefined;
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    const line = out.split('\n').find((l) => l.includes('×') && !l.includes('Some errors'));
    return line?.replace(/^\s*×\s*/, '') ?? out;
  } finally {
    await rm(file, { force: true });
  }
}

// [folder of the importing file, specifier, allowed]
const CASES: Array<[string, string, boolean]> = [
  ['contract', 'zod', true],
  ['contract', '../main/engine/index.js', false],
  ['contract', 'node:fs', false],
  ['main/engine', '../../contract/api.js', true],
  ['main/engine', 'electron', false],
  ['main/engine', '../service/controller.js', false],
  ['main/engine', '../electron/setup.js', false],
  ['main/engine', '../../cli/main.js', false],
  ['main/service', '../engine/index.js', true],
  ['main/service', '../../contract/api.js', true],
  ['main/service', './hub.js', true],
  ['main/service', 'electron', false],
  ['main/service', '../electron/setup.js', false],
  ['main/service', '../../demo/app.js', false],
  ['main/electron', 'electron', true],
  ['main/electron', '../service/controller.js', true],
  ['main/electron', '../../contract/api.js', true],
  ['main/electron', '../../preload/expose.js', false],
  ['main/electron', '../../server/index.js', false],
  ['preload', 'electron', true],
  ['preload', '../contract/api.js', true],
  ['preload', '../main/engine/index.js', false],
  ['preload', 'node:fs', false],
  ['renderer', 'lit', true],
  ['renderer', '../contract/api.js', true],
  ['renderer', 'electron', false],
  ['renderer/panel', '../../contract/api.js', true],
  ['renderer/panel', '../../main/engine/index.js', false],
  ['renderer/panel', 'node:path', false],
  // Electron's subpaths and Node built-ins without the node: prefix count too.
  ['main/engine', 'electron/main', false],
  ['main/service', 'electron/common', false],
  ['renderer/panel', 'electron/renderer', false],
  ['preload', 'path', false],
  ['contract', 'fs', false],
  ['renderer/panel', 'fs', false],
  ['preview/web', 'os', false],
  // The tools and the demo (cli/, server/, preview/, bench/, demo/ share one rule): public entry points only.
  ['preview', '../contract/index.js', true],
  ['preview', '../main/service/index.js', true],
  ['preview', '../main/electron/index.js', true],
  ['preview', '../server/index.js', true],
  ['preview', '../contract/csp.js', false],
  ['preview', '../main/service/hub.js', false],
  ['preview', '../main/electron/csp.js', false],
  ['preview', '../main/engine/keys.js', false],
  ['bench', '../main/engine/index.js', true],
  ['bench', '../main/engine/sync.js', false],
  ['demo', '../main/electron/with-parts.js', true],
  ['demo', '../main/electron/setup.js', false],
  ['demo', '../renderer/panel/vm-cache-panel.js', false],
  ['server', '../preload/expose.js', true],
  ['server', '../preload/api.js', false],
  ['cli', '../main/engine/index.js', true],
  ['cli', '../main/engine/errors.js', true],
  ['cli', '../main/engine/atomic.js', false],
  ['cli/commands', '../../main/engine/index.js', true],
  ['cli/commands', '../../main/engine/local-state.js', false],
  ['cli/commands', '../../contract/errors.js', false],
  // The preview's browser side: the browser rule (no Node, no electron, nothing of the repository
  // but contract/) and the tool rule (contract/ through its entry point only), both in its one override.
  ['preview/web', './ws-bridge.js', true],
  ['preview/web', '../../contract/index.js', true],
  ['preview/web', '../../contract/api.js', false],
  ['preview/web', 'node:fs', false],
  ['preview/web', 'electron', false],
  ['preview/web', '../bridge.js', false],
  ['preview/web', '../../main/engine/index.js', false],
];

describe('the layers are enforced by the linter', () => {
  it.each(CASES)('in %s/, importing %s: allowed %s', async (folder, specifier, allowed) => {
    const verdict = await lintImport(folder, specifier);
    if (allowed) expect(verdict).toBeUndefined();
    // Our own rule points at the table; Biome's rule for bare Node built-ins speaks for itself.
    else expect(verdict).toMatch(/docs\/architecture\.md|Node\.js builtin module/);
  });
});
