// vm-cache: the command line on the sync engine. `run` maps argv to a command
// and returns the exit code; the launcher (bin.ts) calls it and exits.
// Commands load on demand, so each run loads only what it uses.
import { createRequire } from 'node:module';
import { wantsHelp } from './args.js';
import { UsageError } from './errors.js';
import { EXIT } from './exit-codes.js';
import {
  BUILD_HELP,
  CLEAR_HELP,
  HELP,
  IMPORT_HELP,
  KEYGEN_HELP,
  MANIFEST_HELP,
  MOVE_HELP,
  SERVE_HELP,
  SIGN_HELP,
  STATUS_HELP,
  SYNC_HELP,
  VERIFY_HELP,
} from './help.js';
import { type Io, Output, processIo } from './output.js';

type Command = (argv: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, { help: string; load: () => Promise<Command> }> = {
  sync: { help: SYNC_HELP, load: async () => (await import('./commands/sync.js')).syncCommand },
  status: { help: STATUS_HELP, load: async () => (await import('./commands/maintenance.js')).statusCommand },
  verify: { help: VERIFY_HELP, load: async () => (await import('./commands/maintenance.js')).verifyCommand },
  clear: { help: CLEAR_HELP, load: async () => (await import('./commands/maintenance.js')).clearCommand },
  import: { help: IMPORT_HELP, load: async () => (await import('./commands/import.js')).importCommand },
  move: { help: MOVE_HELP, load: async () => (await import('./commands/move.js')).moveCommand },
  keygen: { help: KEYGEN_HELP, load: async () => (await import('./commands/keygen.js')).keygenCommand },
  serve: { help: SERVE_HELP, load: async () => (await import('./commands/serve.js')).serveCommand },
  manifest: {
    help: MANIFEST_HELP,
    load: async () => (await import('./commands/manifest.js')).manifestCommand,
  },
};

const SUBCOMMAND_HELP: Record<string, string> = { build: BUILD_HELP, sign: SIGN_HELP };

export { HELP };

function version(): string {
  try {
    // By the package's own name: the same answer from the sources and from the built dist/cli.
    const pkg = createRequire(import.meta.url)('electron-vm-cache/package.json') as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function run(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(`${HELP}\n`);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const help =
      topic === undefined ? HELP : Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic]!.help : undefined;
    if (help === undefined) return new Output(io, false).fail(unknownCommand(topic!));
    io.stdout.write(`${help}\n`);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) return new Output(io, false).fail(unknownCommand(name));
  if (wantsHelp(rest)) {
    const sub = name === 'manifest' ? rest[0] : undefined;
    const help =
      sub !== undefined && Object.hasOwn(SUBCOMMAND_HELP, sub) ? SUBCOMMAND_HELP[sub]! : command.help;
    io.stdout.write(`${help}\n`);
    return EXIT.ok;
  }
  try {
    return await (await command.load())(rest, io);
  } catch (err) {
    // Usage errors come out of a command's flag parsing before its own Output exists.
    const json = rest.includes('--json') || (name === 'sync' && !io.stdout.isTTY);
    return new Output(io, json).fail(err);
  }
}

function unknownCommand(name: string): UsageError {
  const known = Object.keys(COMMANDS).join(', ');
  return new UsageError(
    `unknown command ${JSON.stringify(name)}; the commands are ${known} (run \`vm-cache --help\`)`,
  );
}
