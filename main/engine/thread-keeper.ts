// Lends a worker thread for one job (one message in, one answer out) and keeps
// the last one idle for a while, so the next job does not start a thread.
//
// Starting a worker costs about 20 ms here (a V8 isolate and a libuv loop). A
// multi-GB download hides that behind its first megabytes, but a sync of small
// artifacts paid it for every one: the reliability soak's sync p50 went from
// 16 to 43 ms when the writer moved to a thread. An idle thread holds about
// 10 MB, so only one is kept, unref'd, and only for `idleMs`.

import type { Worker } from 'node:worker_threads';

export class ThreadKeeper {
  private idle: { worker: Worker; timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly start: () => Worker,
    private readonly idleMs: number,
  ) {}

  /**
   * Posts `job` to a thread and settles with its one answer. Rejects if the
   * thread died first; once settled either way, the thread is done with the job.
   */
  run(job: unknown): Promise<unknown> {
    const worker = this.take();
    return new Promise((resolve, reject) => {
      const done = () => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      };
      const onMessage = (answer: unknown) => {
        done();
        this.keep(worker);
        resolve(answer);
      };
      const onError = (err: unknown) => {
        done();
        void worker.terminate();
        reject(err);
      };
      const onExit = () => onError(new Error('the worker thread stopped before it answered'));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(job);
    });
  }

  private take(): Worker {
    const kept = this.idle;
    this.idle = undefined;
    if (!kept) return this.fresh();
    clearTimeout(kept.timer);
    kept.worker.ref();
    return kept.worker;
  }

  private fresh(): Worker {
    const worker = this.start();
    // An idle thread has no job listening: without these an error there would
    // be an unhandled 'error' event, and a dead thread would be lent again.
    worker.on('error', () => {});
    worker.once('exit', () => {
      if (this.idle?.worker !== worker) return;
      clearTimeout(this.idle.timer);
      this.idle = undefined;
    });
    return worker;
  }

  private keep(worker: Worker): void {
    if (this.idle) {
      void worker.terminate();
      return;
    }
    // Unref'd, an idle thread never keeps the process alive.
    worker.unref();
    const timer = setTimeout(() => {
      this.idle = undefined;
      void worker.terminate();
    }, this.idleMs);
    timer.unref();
    this.idle = { worker, timer };
  }
}
