// vm-cache keygen: an Ed25519 key pair for signing manifests (node:crypto).
import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../main/engine/index.js';
import { bool, COMMON, parse, requireStr } from '../args.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { type Io, Output } from '../output.js';

const OPTIONS = {
  ...COMMON,
  out: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export async function keygenCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse('keygen', argv, OPTIONS);
  const out = new Output(io, bool(values, 'json'));
  try {
    const dir = path.resolve(requireStr('keygen', values, 'out'));
    const privatePath = path.join(dir, 'vm-cache.key');
    const publicPath = path.join(dir, 'vm-cache.pub');
    if (!bool(values, 'force')) {
      for (const file of [privatePath, publicPath]) {
        if (await fs.stat(file).catch(() => undefined)) {
          throw new CliError(
            'ERR_USAGE',
            `keygen: ${file} already exists; pass --force to replace the key pair (manifests signed with the old key will stop verifying)`,
          );
        }
      }
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
    await fs.mkdir(dir, { recursive: true });
    await writeFileAtomic(privatePath, privatePem, { mode: 0o600 });
    await writeFileAtomic(publicPath, publicPem);
    if (out.json) {
      out.line({
        privateKeyPath: privatePath,
        publicKeyPath: publicPath,
        publicKey: raw,
        publicKeyPem: publicPem,
      });
    } else {
      out.text(`Wrote ${privatePath} (private, mode 0600: keep it secret, never publish it)`);
      out.text(`Wrote ${publicPath}`);
      out.text(`public key: ${raw}`);
    }
    return EXIT.ok;
  } catch (err) {
    return out.fail(err);
  }
}
