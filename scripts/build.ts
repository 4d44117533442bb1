// `npm run build`: the package a host installs, in dist/. tsc compiles the
// plugin (engine, service, Electron glue, contract, panel) to JavaScript with .d.ts and
// source maps, and the CLI with the artifact server it serves from; Vite
// makes the self-contained preload and the two pages.
//   dist/main/engine/index.js   electron-vm-cache, /main/engine
//   dist/main/service/index.js  /main/service (controller and hub, no electron)
//   dist/main/electron/index.js /main/electron
//   dist/preload/index.cjs      /preload (the file for webPreferences.preload)
//   dist/preload/expose.js      /preload/expose (exposeVmCache for a host's own preload)
//   dist/pages/*.html           the plugin's first-run and settings windows
//   dist/cli/bin.js             the vm-cache command
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'vite';
import { pagesViteConfig, preloadViteConfig, REPO } from './vite-configs.js';

const DIST = `${REPO}dist`;

function tsc(project: string): void {
  const result = spawnSync(process.execPath, [`${REPO}node_modules/typescript/bin/tsc`, '-p', project], {
    cwd: REPO,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`tsc -p ${project} failed`);
}

const started = performance.now();
rmSync(DIST, { recursive: true, force: true });
tsc('tsconfig.build.json');
tsc('tsconfig.build.web.json');
tsc('tsconfig.build.cli.json');
// configFile: false: each config is the object given; no vite.config.* is looked up from the cwd.
await build({ ...preloadViteConfig(`${DIST}/preload`), configFile: false });
await build({ ...pagesViteConfig(`${DIST}/pages`), configFile: false });
// The pages' HTML entries make empty script chunks: Vite drops the chunks but writes their maps.
for (const name of readdirSync(`${DIST}/pages/assets`)) {
  if (name.endsWith('.js.map') && !existsSync(`${DIST}/pages/assets/${name.slice(0, -4)}`))
    rmSync(`${DIST}/pages/assets/${name}`);
}
// `electron-vm-cache/preload` is a file path to hand to Electron, not a module to import; the
// declaration says so to type checkers that look for one (an empty module).
writeFileSync(
  `${DIST}/preload/index.d.cts`,
  '// The preload is a path for webPreferences.preload: require.resolve("electron-vm-cache/preload").\nexport {};\n',
);
chmodSync(`${DIST}/cli/bin.js`, 0o755);
console.log(`built dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s`);
