// The parent's handle on the artifact server process: start it, read its
// ServerReady line, and call setFault / bytesServed over IPC.

import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Fault } from '../server/types.js';
import type { ServerCommand, ServerReady, ServerReply } from './protocol.js';

type Pending = (reply: ServerReply) => void;
// Distributes `Omit` over the union, so each command keeps its own fields.
type CommandBody = ServerCommand extends infer C ? (C extends ServerCommand ? Omit<C, 'id'> : never) : never;

export class ServerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly child: ChildProcess,
    readonly info: ServerReady,
  ) {
    child.on('message', (reply: ServerReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  static async start(script: string, sizeBytes: number): Promise<ServerHandle> {
    // Plain node, stdout piped for the ready line, IPC for commands.
    const child = fork(script, [String(sizeBytes)], {
      execArgv: [],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`server process exited (${code}) before it was ready`)));
    });
    lines.close();
    return new ServerHandle(child, JSON.parse(first) as ServerReady);
  }

  private call(cmd: CommandBody): Promise<number | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) => (reply.error ? reject(new Error(reply.error)) : resolve(reply.value)));
      this.child.send({ ...cmd, id });
    });
  }

  async setFault(fault: Fault | undefined): Promise<void> {
    await this.call({ op: 'setFault', key: this.info.key, fault });
  }

  async bytesServed(): Promise<number> {
    return (await this.call({ op: 'bytesServed', key: this.info.key })) ?? 0;
  }

  async cpuMs(): Promise<number> {
    return (await this.call({ op: 'cpuMs' })) ?? 0;
  }

  /** Disconnecting is the server's cue to close and exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }
}
