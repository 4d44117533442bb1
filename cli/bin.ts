#!/usr/bin/env node
// The `vm-cache` executable: plain Node on the built JavaScript (dist/cli/bin.js
// in the package). In this repository, cli/vm-cache.mjs runs the same file
// from the TypeScript sources through tsx, with no build step.
import { run } from './main.js';

// A reader that goes away (`vm-cache sync | head -1`) ends the run quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(1);
    throw err;
  });
}

const code = await run(process.argv.slice(2));
// Flush stdout and stderr before leaving: a pipe reader must get every line.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);
