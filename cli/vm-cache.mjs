#!/usr/bin/env node
// The `vm-cache` executable. The CLI is TypeScript; tsx's ESM loader compiles
// it on the fly (cached between runs), so it runs from a fresh clone after
// `npm ci` with no build step. The project's own tsconfig is used whatever the
// current directory is.
import { fileURLToPath } from 'node:url';

// A reader that goes away (`vm-cache sync | head -1`) ends the run quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(1);
    throw err;
  });
}

let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  process.stderr.write(
    'vm-cache: cannot load tsx, which runs the TypeScript sources; run `npm ci` (with dev dependencies) in the project first\n',
  );
  process.exit(1);
}
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { run } = await import('./main.ts');
const code = await run(process.argv.slice(2));
// Flush stdout and stderr before leaving: a pipe reader must get every line.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);
