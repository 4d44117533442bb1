// The reducer that owns every progress transition: pure, so each rule is
// checked on its own, without a server or a clock.
import { describe, expect, it } from 'vitest';
import {
  INITIAL_PROGRESS,
  type ProgressEvent,
  type ProgressState,
  reduceProgress,
} from '../../main/engine/progress-state.js';

const artifact = (agent: string, sizeBytes: number) => ({
  key: `vm/images/${agent}-1-x64.tar.gz`,
  agent,
  version: '1',
  arch: 'x64',
  sha256: 'a'.repeat(64),
  sizeBytes,
});
const A = artifact('a', 1000);
const B = artifact('b', 500);

/** Applies events in order; returns the final state and each step's urgency. */
function run(events: ProgressEvent[], from: ProgressState = INITIAL_PROGRESS) {
  let state = from;
  const urgent: boolean[] = [];
  for (const e of events) {
    const r = reduceProgress(state, e);
    state = r.state;
    urgent.push(r.urgent);
  }
  return { state, urgent };
}

const selected: ProgressEvent = { type: 'selected', artifacts: [A, B] };

describe('reduceProgress', () => {
  it('queues the selected artifacts; state changes are urgent, byte counts are not', () => {
    const { state, urgent } = run([
      selected,
      { type: 'phase', phase: 'downloading' },
      { type: 'artifact', key: A.key, state: 'downloading', receivedBytes: 200 },
      { type: 'bytes', key: A.key, bytes: 300 },
      { type: 'bytes', key: A.key, bytes: 100 },
    ]);
    expect(urgent).toEqual([true, true, true, false, false]);
    expect(state.artifacts.map((a) => [a.state, a.receivedBytes])).toEqual([
      ['downloading', 600],
      ['queued', 0],
    ]);
    // Resumed bytes (200) arrive with the state; only the 400 that came over the network count toward the rate.
    expect(state.transferred).toBe(400);
  });

  it('a verified or cached artifact counts whole; an error stays only with a failure', () => {
    const retried = run([
      selected,
      { type: 'artifact', key: A.key, state: 'queued', error: { code: 'ERR_NETWORK', message: 'x' } },
    ]).state;
    expect(retried.artifacts[0]!.error?.code).toBe('ERR_NETWORK');
    const { state } = run(
      [
        { type: 'artifact', key: A.key, state: 'downloading' },
        { type: 'artifact', key: A.key, state: 'verified' },
        { type: 'artifact', key: B.key, state: 'cached' },
      ],
      retried,
    );
    expect(state.artifacts[0]).not.toHaveProperty('error');
    expect(state.artifacts.map((a) => a.receivedBytes)).toEqual([1000, 500]);
    const failed = run(
      [
        { type: 'artifact', key: A.key, state: 'failed', error: { code: 'ERR_STALLED', message: 'y' } },
        { type: 'artifact', key: A.key, state: 'failed' },
      ],
      retried,
    ).state;
    expect(failed.artifacts[0]!.error?.code).toBe('ERR_STALLED');
  });

  it('the end leaves nothing in motion: cancelled downloads wait to resume, an unfinished check failed', () => {
    const moving = run([
      selected,
      { type: 'artifact', key: A.key, state: 'stalled' },
      { type: 'artifact', key: B.key, state: 'verifying' },
    ]).state;
    const cancelled = reduceProgress(moving, { type: 'finished', phase: 'cancelled' }).state;
    expect(cancelled.artifacts.map((a) => a.state)).toEqual(['queued', 'queued']);
    const failed = reduceProgress(moving, {
      type: 'finished',
      phase: 'failed',
      error: { code: 'ERR_IO', message: 'z' },
    }).state;
    expect(failed.artifacts.map((a) => a.state)).toEqual(['queued', 'failed']);
    expect(failed).toMatchObject({ phase: 'failed', finished: true, error: { code: 'ERR_IO' } });
  });

  it('changes nothing after the end, for an unknown key, or for the phase it is already in', () => {
    const done = run([selected, { type: 'finished', phase: 'done' }]).state;
    for (const e of [
      { type: 'phase', phase: 'downloading' },
      { type: 'bytes', key: A.key, bytes: 1 },
      { type: 'artifact', key: A.key, state: 'failed' },
    ] satisfies ProgressEvent[]) {
      expect(reduceProgress(done, e).state).toBe(done);
    }
    const live = run([selected]).state;
    expect(reduceProgress(live, { type: 'bytes', key: 'vm/other', bytes: 5 }).state).toBe(live);
    expect(reduceProgress(live, { type: 'phase', phase: 'checking' }).state).toBe(live);
  });
});
