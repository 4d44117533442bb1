// The artifact server in a process of its own, so its sending does not share
// the measured engine's event loop. Prints one JSON line (ServerReady), then
// answers ServerCommands over the IPC channel until its parent goes away.
//   node server-process.mjs <sizeBytes>     (built by bench/bundle.ts)

import { startArtifactServer, tarballKey } from '../server/index.js';
import { BENCH_ARTIFACT, type ServerCommand, type ServerReady, type ServerReply } from './protocol.js';

const sizeBytes = Number(process.argv[2]);
if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
  console.error('usage: server-process <sizeBytes>');
  process.exit(2);
}

const server = await startArtifactServer({ artifacts: [{ ...BENCH_ARTIFACT, sizeBytes }] });
const key = tarballKey(BENCH_ARTIFACT);
const agents = server.manifest.agents as Record<string, { tarballs: Record<string, { sha256: string }> }>;
const ready: ServerReady = {
  url: server.url,
  manifestUrl: server.manifestUrl,
  key,
  sha256: agents[BENCH_ARTIFACT.agent]!.tarballs[BENCH_ARTIFACT.arch]!.sha256,
  sizeBytes,
};
process.stdout.write(`${JSON.stringify(ready)}\n`);

process.on('message', (msg: ServerCommand) => {
  const reply: ServerReply = { id: msg.id };
  if (msg.op === 'setFault') server.setFault(msg.key, msg.fault);
  else if (msg.op === 'bytesServed') reply.value = server.bytesServed(msg.key);
  else if (msg.op === 'cpuMs') {
    const cpu = process.cpuUsage();
    reply.value = (cpu.user + cpu.system) / 1000;
  } else reply.error = `unknown op ${(msg as { op: string }).op}`;
  process.send?.(reply);
});
// The parent closing the IPC channel (or dying) ends the server.
process.on('disconnect', () => {
  void server.close().then(() => process.exit(0));
});
