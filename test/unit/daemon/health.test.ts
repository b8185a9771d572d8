// Health check state machine and probe loop against a fake exec (moby's daemon/health.go rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor, applyProbeResult, goDuration, mergeHealthcheck, probeCommand, validateHealthcheck, type ProbeRequest } from '../../../src/daemon/containers/health.ts';
import type { ContainerRecord } from '../../../src/daemon/containers/record.ts';
import type { HealthConfig } from '../../../src/types/docker.ts';

const MS = 1_000_000;

function record(hc: HealthConfig, startedAgoMs = 0): ContainerRecord {
  return {
    id: 'c1',
    name: 'c1',
    config: { Healthcheck: hc, User: 'nobody', WorkingDir: '/srv' },
    state: { status: 'running', startedAt: new Date(Date.now() - startedAgoMs).toISOString() },
  } as unknown as ContainerRecord;
}

const result = (exitCode: number) => ({ Start: new Date().toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: '' });

test('probe commands: CMD, CMD-SHELL, NONE, none', () => {
  assert.deepEqual(probeCommand({ Test: ['CMD', 'true'] }), ['true']);
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'exit 1'] }), ['/bin/sh', '-c', 'exit 1']);
  assert.equal(probeCommand({ Test: ['NONE'] }), undefined);
  assert.equal(probeCommand({ Test: [] }), undefined);
  assert.equal(probeCommand(undefined), undefined);
  assert.equal(goDuration(30_000), '30s');
  assert.equal(goDuration(500), '500ms');
  assert.equal(goDuration(90_000), '1m30s');
});

test('merge over the image and validation', () => {
  assert.deepEqual(mergeHealthcheck({ Interval: 5 * MS }, { Test: ['CMD', 'x'], Retries: 2 }), { Test: ['CMD', 'x'], Interval: 5 * MS, Timeout: undefined, StartPeriod: undefined, StartInterval: undefined, Retries: 2 });
  assert.deepEqual(mergeHealthcheck(undefined, { Test: ['CMD', 'x'] }), { Test: ['CMD', 'x'] });
  assert.deepEqual(mergeHealthcheck({ Test: ['NONE'] }, { Test: ['CMD', 'x'] })?.Test, ['NONE']);
  assert.throws(() => validateHealthcheck({ Interval: 10 }), /Interval in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthcheck({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
  validateHealthcheck({ Interval: 0, Timeout: MS });
});

test('status: starting → healthy → unhealthy after `retries` failures → healthy; the log keeps 5', () => {
  const rec = record({ Test: ['CMD', 'x'], Retries: 2 });
  rec.state.health = { Status: 'starting', FailingStreak: 0, Log: [] };
  assert.equal(applyProbeResult(rec, result(0)), 'healthy');
  assert.equal(applyProbeResult(rec, result(1)), undefined);
  assert.equal(rec.state.health.FailingStreak, 1);
  assert.equal(applyProbeResult(rec, result(3)), 'unhealthy');
  assert.equal(applyProbeResult(rec, result(1)), undefined);
  assert.equal(rec.state.health.FailingStreak, 3);
  assert.equal(applyProbeResult(rec, result(0)), 'healthy');
  assert.equal(rec.state.health.FailingStreak, 0);
  assert.deepEqual(rec.state.health.Log.map((r) => r.ExitCode), [0, 1, 3, 1, 0]);
  applyProbeResult(rec, result(2));
  assert.deepEqual(rec.state.health.Log.map((r) => r.ExitCode), [1, 3, 1, 0, 2]);
});

test('failures in the start period do not count while starting', () => {
  const rec = record({ Test: ['CMD', 'x'], Retries: 1, StartPeriod: 60_000 * MS });
  rec.state.health = { Status: 'starting', FailingStreak: 0, Log: [] };
  assert.equal(applyProbeResult(rec, result(1)), undefined);
  assert.equal(rec.state.health.FailingStreak, 0);
  assert.equal(rec.state.health.Status, 'starting');
});

test('the monitor probes every interval, publishes status changes, and stops', async () => {
  const rec = record({ Test: ['CMD-SHELL', 'check'], Interval: 5 * MS, Retries: 1, Timeout: 100 * MS });
  let healthy = true;
  const requests: ProbeRequest[] = [];
  const events: string[] = [];
  let saves = 0;
  const mon = new HealthMonitor({
    get: (id) => (id === rec.id ? rec : undefined),
    save: () => void saves++,
    publish: (_r, action) => void events.push(action),
    probe: async (req) => {
      requests.push(req);
      return { exitCode: healthy ? 0 : 1, output: healthy ? 'ok' : 'bad', timedOut: false };
    },
  });
  mon.init(rec);
  assert.equal(rec.state.health?.Status, 'starting');
  const until = async (pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(pred());
  };
  await until(() => events.length === 1);
  assert.deepEqual(events, ['health_status: healthy']);
  assert.deepEqual(requests[0], { id: 'c1', cmd: ['/bin/sh', '-c', 'check'], user: 'nobody', workingDir: '/srv', timeoutMs: 100 });
  healthy = false;
  await until(() => events.length === 2);
  assert.equal(events[1], 'health_status: unhealthy');
  assert.equal(rec.state.health?.Log.at(-1)?.Output, 'bad');
  healthy = true;
  await until(() => events.length === 3);
  mon.stop('c1');
  const n = requests.length;
  await new Promise((r) => setTimeout(r, 40));
  assert.ok(requests.length <= n + 1, 'no probes after stop');
  assert.ok(saves >= 3);
});

test('a probe that times out or cannot run is a failure with moby\'s output', async () => {
  const rec = record({ Test: ['CMD', 'x'], Interval: 5 * MS, Timeout: 1000 * MS, Retries: 1 });
  let mode: 'timeout' | 'error' = 'timeout';
  const events: string[] = [];
  const mon = new HealthMonitor({
    get: () => rec,
    save: () => undefined,
    publish: (_r, a) => void events.push(a),
    probe: async () => {
      if (mode === 'error') throw new Error('OCI runtime exec failed');
      return { exitCode: 137, output: '', timedOut: true };
    },
  });
  mon.init(rec);
  for (let i = 0; i < 500 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(events[0], 'health_status: unhealthy');
  assert.deepEqual([rec.state.health?.Log[0].ExitCode, rec.state.health?.Log[0].Output], [-1, 'Health check exceeded timeout (1s)']);
  mode = 'error';
  for (let i = 0; i < 500 && (rec.state.health?.Log.length ?? 0) < 2; i++) await new Promise((r) => setTimeout(r, 5));
  mon.stopAll();
  assert.equal(rec.state.health?.Log.at(-1)?.Output, 'OCI runtime exec failed');
});
