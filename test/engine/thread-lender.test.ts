// The lender on real worker threads: a job after a job reuses the idle thread,
// jobs at once get threads of their own and only one is kept, a thread that
// dies (before or after its answer) is never lent again, an idle thread ends after
// idleMs, and it never keeps its process alive.
import { once } from 'node:events';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ThreadLender } from '../../main/engine/thread-lender.js';
import { echoThreads } from '../fixtures/echo-thread.js';
import { runTsChild } from '../helpers.js';

type Answer = { threadId: number; n: number };

/** A lender of echo threads, and every thread it started, in order. */
function lenderOf(idleMs: number) {
  const started: Worker[] = [];
  return { lender: new ThreadLender(echoThreads(started), idleMs), started };
}

/** One job, its thread given back as soon as it has answered. */
async function ask(lender: ThreadLender<{ worker: Worker }>, job: object): Promise<Answer> {
  const { answer, giveBack } = lender.run(() => job);
  try {
    return (await answer) as Answer;
  } finally {
    giveBack();
  }
}

describe('ThreadLender', () => {
  it('lends the idle thread to the next job instead of starting one', async () => {
    const { lender, started } = lenderOf(60_000);
    const a = await ask(lender, { n: 1 });
    const b = await ask(lender, { n: 2 });
    const c = await ask(lender, { n: 3 });
    expect([a.n, b.n, c.n]).toEqual([1, 2, 3]);
    expect(new Set([a.threadId, b.threadId, c.threadId]).size).toBe(1);
    expect(started).toHaveLength(1);
    await started[0]!.terminate();
  });

  it('never lends a thread whose borrower has not given it back, even once it has answered', async () => {
    const { lender, started } = lenderOf(60_000);
    const held = lender.run(() => ({ n: 1 }));
    const first = (await held.answer) as Answer;
    const other = await ask(lender, { n: 2 });
    expect(other.threadId).not.toBe(first.threadId);
    expect(started).toHaveLength(2);
    held.giveBack();
    await Promise.all(started.map((w) => w.terminate()));
  });

  it('keeps a thread given back before it answered, once it answers', async () => {
    const { lender, started } = lenderOf(60_000);
    const early = lender.run(() => ({ n: 1 }));
    early.giveBack();
    const first = (await early.answer) as Answer;
    expect((await ask(lender, { n: 2 })).threadId).toBe(first.threadId);
    expect(started).toHaveLength(1);
    await started[0]!.terminate();
  });

  it('gives jobs at once a thread each, then keeps one and ends the other', async () => {
    const { lender, started } = lenderOf(60_000);
    const [a, b] = await Promise.all([ask(lender, { n: 1 }), ask(lender, { n: 2 })]);
    expect(a.threadId).not.toBe(b.threadId);
    expect(started).toHaveLength(2);
    // Whichever answers second finds one already kept, so it is terminated.
    const ended = await Promise.race(started.map((w) => once(w, 'exit').then(() => w)));
    const survivor = started.find((w) => w !== ended)!;
    const c = await ask(lender, { n: 3 });
    expect([a.threadId, b.threadId]).toContain(survivor.threadId);
    expect(c.threadId).toBe(survivor.threadId);
    expect(started).toHaveLength(2);
    await survivor.terminate();
  });

  it('fails the job of a thread that dies, and starts a new thread for the next', async () => {
    const { lender, started } = lenderOf(60_000);
    const first = await ask(lender, { n: 1 });
    await expect(ask(lender, { die: true })).rejects.toThrow('the worker thread stopped before it answered');
    const next = await ask(lender, { n: 2 });
    expect(next.threadId).not.toBe(first.threadId);
    expect(started).toHaveLength(2);
    await started[1]!.terminate();
  });

  it('does not keep a thread that died after answering, before it was given back', async () => {
    const { lender, started } = lenderOf(60_000);
    const job = lender.run(() => ({ n: 1, answerThenDie: true }));
    const exited = once(started[0]!, 'exit');
    const first = (await job.answer) as Answer;
    await exited;
    job.giveBack();
    // Lent again, the dead thread would never answer: this would time out.
    const next = await ask(lender, { n: 2 });
    expect(next.threadId).not.toBe(first.threadId);
    expect(started).toHaveLength(2);
    await started[1]!.terminate();
  });

  it('ends the idle thread after idleMs; the next job starts a new one', async () => {
    const { lender, started } = lenderOf(50);
    const first = await ask(lender, { n: 1 });
    await once(started[0]!, 'exit');
    const next = await ask(lender, { n: 2 });
    expect(next.threadId).not.toBe(first.threadId);
    expect(started).toHaveLength(2);
    await started[1]!.terminate();
  });

  it('neither an idle thread nor one never given back keeps its process alive', async () => {
    // The child keeps its thread for ten minutes; the test's own timeout fails it if the process waits for that.
    const { done } = runTsChild(path.join(import.meta.dirname, '..', 'fixtures', 'lender-child.ts'), []);
    const { code, lines, stderr } = await done;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lines).toEqual([
      { threadId: expect.any(Number), n: 1 },
      { threadId: expect.any(Number), n: 2 },
    ]);
  }, 30_000);
});
