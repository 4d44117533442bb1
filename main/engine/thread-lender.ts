// Lends a worker thread for one job (one message in, one answer out) and keeps
// one idle for a while once its job is done, so the next job does not start a
// thread.
//
// Starting a worker costs about 20 ms here (a V8 isolate and a libuv loop). A
// multi-GB download hides that behind its first megabytes, but a sync of small
// artifacts paid it for every one: the reliability soak's sync p50 went from
// 16 to 43 ms when the writer moved to a thread. An idle thread holds about
// 10 MB, so only one is kept, unref'd, and only for `idleMs`.

import type { Worker } from 'node:worker_threads';

/** A started thread and whatever belongs to it for its whole life (buffers it shares). */
export interface Lendable {
  readonly worker: Worker;
}

export class ThreadLender<T extends Lendable> {
  private idle: { thread: T; timer: NodeJS.Timeout } | undefined;
  /** Threads that failed or exited: never kept, never lent again. */
  private readonly dead = new WeakSet<Worker>();

  constructor(
    private readonly start: () => T,
    private readonly idleMs: number,
  ) {}

  /**
   * Lends a thread and posts the message `job` makes for it. `answer` settles
   * with the thread's one answer, or rejects if the thread died first. The
   * thread goes back to the lender only once it has answered and the borrower
   * has called `giveBack()`: until then the borrower may still touch what the
   * thread shares (a ring), and no other job can be handed the same thread.
   */
  run(job: (thread: T) => unknown): { thread: T; answer: Promise<unknown>; giveBack: () => void } {
    const thread = this.take();
    const { worker } = thread;
    let answered = false;
    let givenBack = false;
    const answer = new Promise((resolve, reject) => {
      const done = () => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      };
      const onMessage = (message: unknown) => {
        done();
        answered = true;
        // Done with the job, the thread only waits for messages: never a reason
        // to keep the process alive, even if the borrower never gives it back.
        worker.unref();
        if (givenBack) this.holdIdle(thread);
        resolve(message);
      };
      const onError = (err: unknown) => {
        done();
        void worker.terminate();
        reject(err);
      };
      const onExit = () => onError(new Error('the worker thread stopped before it answered'));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    worker.postMessage(job(thread));
    const giveBack = () => {
      if (givenBack) return;
      givenBack = true;
      if (answered) this.holdIdle(thread);
    };
    return { thread, answer, giveBack };
  }

  private take(): T {
    const kept = this.idle;
    this.idle = undefined;
    if (!kept) return this.fresh();
    clearTimeout(kept.timer);
    kept.thread.worker.ref();
    return kept.thread;
  }

  private fresh(): T {
    const thread = this.start();
    // An idle thread has no job listening: without these an error there would
    // be an unhandled 'error' event, and a dead thread would be lent again.
    const gone = () => {
      this.dead.add(thread.worker);
      if (this.idle?.thread !== thread) return;
      clearTimeout(this.idle.timer);
      this.idle = undefined;
    };
    thread.worker.on('error', gone);
    thread.worker.once('exit', gone);
    return thread;
  }

  private holdIdle(thread: T): void {
    // A thread that died after its answer (before it was given back) is not kept.
    if (this.dead.has(thread.worker)) return;
    if (this.idle) {
      void thread.worker.terminate();
      return;
    }
    const timer = setTimeout(() => {
      this.idle = undefined;
      void thread.worker.terminate();
    }, this.idleMs);
    timer.unref();
    this.idle = { thread, timer };
  }
}
