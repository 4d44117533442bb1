// vm-cache serve: the project's artifact server in folder mode, on 127.0.0.1,
// with ranges: a local mirror for testing and for offline networks.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { startArtifactServer } from '../../server/index.js';
import { bool, COMMON, int, parse, requireStr } from '../args.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { type Io, Output } from '../output.js';

const OPTIONS = {
  ...COMMON,
  dir: { type: 'string' },
  port: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse('serve', argv, OPTIONS);
  const out = new Output(io, bool(values, 'json'));
  try {
    const dir = path.resolve(requireStr('serve', values, 'dir'));
    const port = int('serve', values, 'port', 0, 0, 65535);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new UsageError(`serve: --dir ${dir} is not a folder`);
    if (!(await stat(path.join(dir, 'vm', 'manifest.json')).catch(() => undefined))) {
      out.note(
        `warning: ${path.join(dir, 'vm', 'manifest.json')} does not exist (build one with \`vm-cache manifest build\`)`,
      );
    }
    const server = await startArtifactServer({ dir, port });
    if (out.json) out.line({ type: 'listening', url: server.url, manifestUrl: server.manifestUrl, dir });
    else {
      out.text(`Serving ${dir} at ${server.url} (Ctrl-C to stop)`);
      out.text(`manifest URL: ${server.manifestUrl}`);
    }
    // Log each request once it has been answered.
    let logged = 0;
    const logRequests = () => {
      while (logged < server.requests.length && server.requests[logged]!.status !== 0) {
        const r = server.requests[logged++]!;
        if (out.json) out.line({ type: 'request', ...r });
        else io.stderr.write(`${r.method} /${r.path}${r.range ? ` (${r.range})` : ''} -> ${r.status}\n`);
      }
    };
    const ticker = setInterval(logRequests, 200);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    clearInterval(ticker);
    logRequests();
    await server.close();
    out.text('Stopped.');
    return EXIT.ok;
  } catch (err) {
    return out.fail(err);
  }
}
