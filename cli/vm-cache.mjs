#!/usr/bin/env node
// The `vm-cache` command from this repository's TypeScript sources, with no
// build step: tsx's ESM loader compiles them on the fly (cached between runs),
// with the project's tsconfig whatever the current directory is. The tests
// and `npm run vm-cache -- ...` use it; the package ships dist/cli/bin.js.
import { fileURLToPath } from 'node:url';

let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  process.stderr.write(
    'vm-cache: cannot load tsx, which runs the TypeScript sources; run `npm ci` (with dev dependencies) in the project first, or use the built dist/cli/bin.js\n',
  );
  process.exit(1);
}
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('./bin.ts');
