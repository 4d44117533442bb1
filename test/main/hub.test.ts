// The hub's gatekeeping, with the real controller and engine behind it: a
// forbidden sender or a malformed request gets a coded failure and changes
// nothing (no request to the server, no file touched, no subscription).
import { describe, expect, it, vi } from 'vitest';
import { INVOKE, type InvokeArgs, type InvokeName, resultSchema } from '../../contract/api.js';
import { ERROR_CODES } from '../../contract/errors.js';
import { defaultSenderPolicy, type SenderInfo, VmCacheHub } from '../../main/service/hub.js';
import type { ArtifactServer } from '../../server/index.js';
import { listFiles, oneArtifactServer } from '../helpers.js';
import { controllerFor, PAGE_PREFIX, PAGE_URL, recordingLogger, sender, waitFor } from './support.js';

const KNOWN_IDS = new Set([1, 2, 3]);
const noSend = () => {};

/** Arguments each call accepts. */
const GOOD_ARGS: { [K in InvokeName]: InvokeArgs<K> } = {
  getStatus: [],
  sync: [],
  cancel: [],
  pause: [],
  resume: [],
  verify: [],
  clear: [],
  getLimitRate: [],
  setLimitRate: [2048],
  getSettings: [],
  setAutoUpdate: [false],
  moveCache: [],
  subscribe: [],
  unsubscribe: [],
};

async function setup(options: { synced?: boolean; limitRate?: number; sizeBytes?: number } = {}) {
  const s = await oneArtifactServer(options.sizeBytes);
  const controller = await controllerFor(
    s,
    options.limitRate === undefined ? {} : { limitRate: options.limitRate },
  );
  if (options.synced) await controller.sync();
  const logger = recordingLogger();
  const policy = defaultSenderPolicy([PAGE_PREFIX]);
  const hub = new VmCacheHub({
    controller,
    isAllowedSender: (x) => KNOWN_IDS.has(x.id) && policy(x),
    logger,
    // The user closes the picker: nothing moves.
    pickFolder: async () => null,
  });
  const snapshot = async () => ({
    requests: s.requests.length,
    files: await listFiles(controller.root),
    subscribers: hub.subscribers,
    syncing: controller.syncing,
    limitRate: controller.limitRate,
  });
  return { s, controller, hub, logger, snapshot };
}

const tarballs = (s: ArtifactServer) => s.requests.filter((r) => r.path.endsWith('.tar.gz'));

describe('VmCacheHub: requests', () => {
  it('answers every INVOKE channel for an allowed sender, each value valid by its schema', async () => {
    const { hub, s } = await setup();
    for (const name of [
      'getStatus',
      'sync',
      'verify',
      'cancel',
      'pause',
      'resume',
      'subscribe',
      'unsubscribe',
      'getLimitRate',
      'setLimitRate',
      'getSettings',
      'setAutoUpdate',
      'moveCache',
      'clear',
    ] as const) {
      const spec = INVOKE[name];
      const answer = await hub.invoke(spec.channel, GOOD_ARGS[name], sender(1), noSend);
      expect(resultSchema(spec.value).parse(answer), name).toMatchObject({ ok: true });
    }
    expect(Object.keys(GOOD_ARGS).sort()).toEqual(Object.keys(INVOKE).sort());
    expect(tarballs(s)).toHaveLength(1);
  });

  it('refuses senders that are not the app’s main frame: wrong origin, subframe, unknown id', async () => {
    const { hub, snapshot, logger } = await setup({ synced: true });
    const before = await snapshot();
    const forbidden: SenderInfo[] = [
      sender(1, 'https://evil.example/first-run.html'),
      sender(1, PAGE_URL, false),
      sender(99, PAGE_URL),
      sender(1, 'file:///opt/app/out/renderer-evil/x.html'),
      sender(1, ''),
    ];
    for (const who of forbidden) {
      for (const name of ['getStatus', 'sync', 'clear', 'verify', 'subscribe', 'setLimitRate'] as const) {
        const answer = await hub.invoke(INVOKE[name].channel, GOOD_ARGS[name], who, noSend);
        expect(answer, `${name} from ${JSON.stringify(who)}`).toMatchObject({
          ok: false,
          code: 'ERR_FORBIDDEN_SENDER',
        });
      }
    }
    expect(await snapshot()).toEqual(before);
    expect(logger.lines.every((l) => l.level === 'warn' && l.text.includes('ERR_FORBIDDEN_SENDER'))).toBe(
      true,
    );
  });

  it('refuses malformed sender objects and a policy that throws', async () => {
    const { controller, snapshot } = await setup({ synced: true });
    const before = await snapshot();
    const throwing = new VmCacheHub({
      controller,
      isAllowedSender: () => {
        throw new Error('policy broke');
      },
    });
    expect(await throwing.invoke(INVOKE.clear.channel, [], sender(1), noSend)).toMatchObject({
      code: 'ERR_FORBIDDEN_SENDER',
    });
    const lenient = new VmCacheHub({ controller, isAllowedSender: () => true });
    for (const bad of [null, undefined, 'x', {}, { id: '1', url: PAGE_URL, isMainFrame: true }, { id: 1 }]) {
      // @ts-expect-error not a SenderInfo, on purpose: what a broken transport might hand the hub
      const answer = await lenient.invoke(INVOKE.clear.channel, [], bad, noSend);
      expect(answer, JSON.stringify(bad)).toMatchObject({ ok: false, code: 'ERR_FORBIDDEN_SENDER' });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('rejects unknown channels and bad arguments with ERR_INVALID_REQUEST, changing nothing', async () => {
    const { hub, snapshot } = await setup({ synced: true });
    const before = await snapshot();
    const huge = 'x'.repeat(2_000_000);
    const badChannels: unknown[] = [
      'vm-cache:nope',
      'getStatus',
      'sync',
      '',
      '__proto__',
      'constructor',
      'toString',
      huge,
      `vm-cache:sync${huge}`,
      123,
      null,
      undefined,
      { channel: 'vm-cache:sync' },
      ['vm-cache:sync'],
    ];
    for (const channel of badChannels) {
      const answer = await hub.invoke(channel as string, [], sender(1), noSend);
      expect(answer).toMatchObject({ ok: false, code: 'ERR_INVALID_REQUEST' });
      // A megabyte channel name is not echoed back.
      expect(answer.ok === false && answer.message.length).toBeLessThan(200);
    }
    const badArgs: unknown[] = [
      [1],
      [huge],
      [{}],
      [undefined],
      [null],
      'not an array',
      huge,
      null,
      undefined,
      { 0: 'x', length: 1 },
      new Array(10_000).fill(0),
    ];
    for (const name of [
      'sync',
      'clear',
      'verify',
      'cancel',
      'pause',
      'resume',
      'subscribe',
      'getStatus',
      'getLimitRate',
      'getSettings',
      'setAutoUpdate',
      'moveCache',
    ] as const) {
      for (const args of badArgs) {
        const answer = await hub.invoke(INVOKE[name].channel, args, sender(1), noSend);
        expect(answer, `${name} ${String(args).slice(0, 20)}`).toMatchObject({
          ok: false,
          code: 'ERR_INVALID_REQUEST',
        });
        expect(answer.ok === false && answer.message.length).toBeLessThan(200);
      }
    }
    expect(await hub.invoke(INVOKE.sync.channel, [1], sender(1), noSend)).toEqual({
      ok: false,
      code: 'ERR_INVALID_REQUEST',
      message: 'vm-cache:sync takes no arguments',
    });
    expect(await snapshot()).toEqual(before);
  });

  it('setLimitRate: garbage gets a clear ERR_INVALID_REQUEST and never reaches the controller', async () => {
    const { hub, controller, snapshot } = await setup({ synced: true, limitRate: 1 << 20 });
    const set = vi.spyOn(controller, 'setLimitRate');
    const before = await snapshot();
    const channel = INVOKE.setLimitRate.channel;
    const NOT_A_NUMBER = `${channel}: bytesPerSecond must be a number, or null for no limit`;
    const TOO_SMALL = `${channel}: bytesPerSecond must be at least 1024 (1 KiB/s)`;
    const ONE_ARGUMENT = `${channel} takes one argument: bytesPerSecond, or null for no limit`;
    const huge = '9'.repeat(2_000_000);
    const garbage: Array<[unknown, string]> = [
      [[Number.NaN], NOT_A_NUMBER],
      [[Number.POSITIVE_INFINITY], NOT_A_NUMBER],
      [[Number.NEGATIVE_INFINITY], NOT_A_NUMBER],
      [[-5_000_000], TOO_SMALL],
      [[0], TOO_SMALL],
      [[-0], TOO_SMALL],
      [[1], TOO_SMALL],
      [[1023.99], TOO_SMALL],
      [['5M'], NOT_A_NUMBER],
      [['5000000'], NOT_A_NUMBER],
      [[huge], NOT_A_NUMBER],
      [[{}], NOT_A_NUMBER],
      [[{ valueOf: () => 5_000_000 }], NOT_A_NUMBER],
      [[[2048]], NOT_A_NUMBER],
      [[true], NOT_A_NUMBER],
      [[2048n], NOT_A_NUMBER],
      [[undefined], NOT_A_NUMBER],
      [[], ONE_ARGUMENT],
      [[2048, 'extra'], ONE_ARGUMENT],
      [new Array(10_000).fill(2048), ONE_ARGUMENT],
      [2048, ONE_ARGUMENT],
      ['2048', ONE_ARGUMENT],
      [null, ONE_ARGUMENT],
      [undefined, ONE_ARGUMENT],
      [{ 0: 2048, length: 1 }, ONE_ARGUMENT],
    ];
    for (const [args, message] of garbage) {
      const answer = await hub.invoke(channel, args, sender(1), noSend);
      expect(answer, String(args).slice(0, 20)).toEqual({ ok: false, code: 'ERR_INVALID_REQUEST', message });
    }
    expect(set).not.toHaveBeenCalled();
    expect(await snapshot()).toEqual(before);
    expect(await hub.invoke(INVOKE.getLimitRate.channel, [], sender(1), noSend)).toEqual({
      ok: true,
      value: { bytesPerSecond: 1 << 20 },
    });
  });

  it('setLimitRate over the hub reaches the controller and the sync in flight; getLimitRate reads it back', async () => {
    const { hub, controller, s } = await setup({ sizeBytes: 6 << 20 });
    const call = <K extends InvokeName>(name: K, ...args: InvokeArgs<K>) =>
      hub.invoke(INVOKE[name].channel, args, sender(1), noSend);
    expect(await call('getLimitRate')).toEqual({ ok: true, value: { bytesPerSecond: null } });

    // 64 KiB/s before the sync: on loopback the 6 MiB would otherwise be gone before a second call.
    expect(await call('setLimitRate', 64 << 10)).toEqual({ ok: true, value: { bytesPerSecond: 64 << 10 } });
    expect(controller.limitRate).toBe(64 << 10);
    expect(await call('getLimitRate')).toEqual({ ok: true, value: { bytesPerSecond: 64 << 10 } });
    const running = call('sync');
    await waitFor(() => (controller.currentProgress()?.receivedBytes ?? 0) > 0, 5_000, 'the first bytes');
    await new Promise((r) => setTimeout(r, 1000));
    // About a second at 64 KiB/s (plus the bucket and a chunk): far from the 6 MiB.
    expect(controller.currentProgress()?.receivedBytes).toBeLessThan(512 << 10);

    // Lifted mid-sync, over the hub: the rest comes at once.
    expect(await call('setLimitRate', null)).toEqual({ ok: true, value: { bytesPerSecond: null } });
    expect(controller.limitRate).toBeUndefined();
    const lifted = performance.now();
    expect(await running).toMatchObject({ ok: true, value: { skipped: false } });
    // The rest at 64 KiB/s would take over a minute.
    expect((performance.now() - lifted) / 1000).toBeLessThan(10);
    expect(tarballs(s)).toHaveLength(1);
    expect(await call('getLimitRate')).toEqual({ ok: true, value: { bytesPerSecond: null } });
  });

  it('a controller error keeps its code; every failure uses a contract error code', async () => {
    const { hub, s } = await setup();
    s.setFault('vm/manifest.json', { status: 404 });
    const answer = await hub.invoke(INVOKE.sync.channel, [], sender(1), noSend);
    expect(answer).toMatchObject({ ok: false, code: 'ERR_MANIFEST_FETCH' });
    expect(answer.ok === false && answer.message).toMatch(/manifest fetch failed/);
    expect(ERROR_CODES).toContain(answer.ok === false && answer.code);
  });

  it('an error without a contract code becomes ERR_INTERNAL', async () => {
    const { controller } = await setup();
    const broken = Object.create(controller) as typeof controller;
    broken.getStatus = async () => {
      throw Object.assign(new Error('disk on fire'), { code: 'EIO' });
    };
    // @ts-expect-error not a VerifyReport, on purpose: the hub must not pass on what the contract does not allow
    broken.verify = async () => ({ ok: 'yes' });
    const hub = new VmCacheHub({ controller: broken, isAllowedSender: () => true });
    expect(await hub.invoke(INVOKE.getStatus.channel, [], sender(1), noSend)).toEqual({
      ok: false,
      code: 'ERR_INTERNAL',
      message: 'disk on fire',
    });
    // An answer that breaks the contract never crosses to the page.
    expect(await hub.invoke(INVOKE.verify.channel, [], sender(1), noSend)).toMatchObject({
      ok: false,
      code: 'ERR_INTERNAL',
    });
  });

  it('after dispose every request is refused', async () => {
    const { hub, s } = await setup();
    hub.dispose();
    expect(await hub.invoke(INVOKE.sync.channel, [], sender(1), noSend)).toMatchObject({
      ok: false,
      code: 'ERR_INTERNAL',
    });
    expect(s.requests).toHaveLength(0);
  });
});
