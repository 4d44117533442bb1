// Bundles the two child programs into plain .mjs files, so they run on plain
// node: tsx's loader adds ~50 MB of RSS that has nothing to do with the engine
// and would swamp the memory figure.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Bundles {
  engineRun: string;
  serverProcess: string;
}

/**
 * For tuning experiments only: resolve `main/engine/*` from a copy in `dir`
 * (its `../../contract` must resolve too, e.g. a symlink next to the copy).
 */
function engineFrom(dir: string): Plugin {
  const real = path.join(repo, 'main', 'engine');
  return {
    name: 'engine-copy',
    setup(b) {
      b.onResolve({ filter: /engine/ }, (args) => {
        const target = path.resolve(args.resolveDir, args.path);
        if (!target.startsWith(real + path.sep)) return undefined;
        return { path: path.join(dir, path.relative(real, target)).replace(/\.js$/, '.ts') };
      });
    },
  };
}

export async function bundle(outdir: string, engineDir?: string): Promise<Bundles> {
  await build({
    entryPoints: [path.join(repo, 'bench/engine-run.ts'), path.join(repo, 'bench/server-process.ts')],
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies resolve from the repo even for an engine copy in a temp dir.
    nodePaths: [path.join(repo, 'node_modules')],
    // Some dependencies still require() Node built-ins.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    plugins: engineDir ? [engineFrom(path.resolve(engineDir))] : [],
    logLevel: 'warning',
  });
  return {
    engineRun: path.join(outdir, 'engine-run.mjs'),
    serverProcess: path.join(outdir, 'server-process.mjs'),
  };
}
