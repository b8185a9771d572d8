// Health checks (issue 3) with the real docker CLI: --health-* flags and HEALTHCHECK from the image,
// unhealthy/healthy as a flag file appears and vanishes, State.Health, ps status, health_status events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, docker, berth } from '../helpers/daemon.ts';
import type { Health, HealthConfig } from '../../src/types/docker.ts';

const d = new TestDaemon();
before(async () => {
  await d.start();
  await d.importBusybox();
});
after(async () => {
  await d.cleanup();
});

interface Inspect {
  State: { Status: string; Health?: Health };
  Config: { Healthcheck?: HealthConfig };
}

async function inspect(name: string): Promise<Inspect> {
  const r = await d.api('GET', `/containers/${name}/json`);
  assert.equal(r.status, 200, r.body);
  return r.json<Inspect>();
}

async function until<T>(what: string, get: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await get();
  while (!pred(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}\n${d.logs.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
    v = await get();
  }
  return v;
}

const health = (name: string) => until(`${name} to have health`, () => inspect(name), (s) => s.State.Health !== undefined);
const status = (name: string, want: string) => until(`${name} ${want}`, () => inspect(name), (s) => s.State.Health?.Status === want);

test('a health check turns unhealthy and healthy as a flag file appears and vanishes', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const run = await docker(d, ['run', '-d', '--name', 'hc', '--health-cmd', 'test -f /tmp/healthy && echo ok', '--health-interval', '300ms', '--health-retries', '2', '--health-timeout', '5s', 'busybox', 'sleep', '300']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  const cfg = (await inspect('hc')).Config.Healthcheck;
  assert.deepEqual(cfg, { Test: ['CMD-SHELL', 'test -f /tmp/healthy && echo ok'], Interval: 300_000_000, Timeout: 5_000_000_000, Retries: 2 });

  const sick = await status('hc', 'unhealthy');
  assert.ok(sick.State.Health!.FailingStreak >= 2);
  assert.ok(sick.State.Health!.Log.length >= 2 && sick.State.Health!.Log.length <= 5);
  assert.equal(sick.State.Health!.Log.at(-1)!.ExitCode, 1);
  assert.match((await docker(d, ['ps', '--filter', 'name=hc', '--format', '{{.Status}}'])).stdout, /^Up .* \(unhealthy\)$/m);
  assert.equal((await docker(d, ['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}'])).stdout, 'hc\n');
  assert.equal((await docker(d, ['ps', '--filter', 'health=healthy', '--format', '{{.Names}}'])).stdout, '');

  assert.equal((await docker(d, ['exec', 'hc', 'touch', '/tmp/healthy'])).code, 0);
  const well = await status('hc', 'healthy');
  assert.equal(well.State.Health!.FailingStreak, 0);
  assert.deepEqual([well.State.Health!.Log.at(-1)!.ExitCode, well.State.Health!.Log.at(-1)!.Output], [0, 'ok\n']);
  assert.match((await docker(d, ['ps', '--filter', 'name=hc', '--format', '{{.Status}}'])).stdout, /^Up .* \(healthy\)$/m);

  assert.equal((await docker(d, ['exec', 'hc', 'rm', '/tmp/healthy'])).code, 0);
  await status('hc', 'unhealthy');
  // The log keeps the last five probes.
  await until('a full log', () => inspect('hc'), (s) => s.State.Health!.Log.length === 5);

  const ev = await docker(d, ['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--filter', 'event=health_status', '--format', '{{.Action}}']);
  assert.equal(ev.code, 0, ev.stderr);
  assert.deepEqual(ev.stdout.trim().split('\n'), ['health_status: unhealthy', 'health_status: healthy', 'health_status: unhealthy']);

  // Probes resume after a berthd crash (status starts over from `starting`, as at a start).
  assert.equal((await docker(d, ['exec', 'hc', 'touch', '/tmp/healthy'])).code, 0);
  await d.kill9();
  await d.start();
  await status('hc', 'healthy');
  assert.equal((await docker(d, ['rm', '-f', 'hc'])).code, 0);
});

test('starting during the start period; failures there do not count', async () => {
  const run = await docker(d, ['run', '-d', '--name', 'slow', '--health-cmd', 'exit 1', '--health-start-period', '10m', '--health-start-interval', '200ms', '--health-interval', '1s', '--health-retries', '1', 'busybox', 'sleep', '300']);
  assert.equal(run.code, 0, run.stderr);
  const s = await until('probes in the start period', () => inspect('slow'), (v) => (v.State.Health?.Log.length ?? 0) >= 2);
  assert.equal(s.State.Health!.Status, 'starting');
  assert.equal(s.State.Health!.FailingStreak, 0);
  assert.match((await docker(d, ['ps', '--filter', 'name=slow', '--format', '{{.Status}}'])).stdout, /^Up .* \(health: starting\)$/m);
  // berth shows the same, and creates the same config from its flags.
  assert.match((await berth(d, ['ps', '--filter', 'name=slow', '--format', '{{.Status}}'])).stdout, /^Up .* \(health: starting\)$/m);
  const b = await berth(d, ['create', '--name', 'bslow', '--health-cmd', 'exit 1', '--health-start-period', '10m', '--health-start-interval', '200ms', '--health-interval', '1s', '--health-retries', '1', 'busybox', 'sleep', '300']);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual((await inspect('bslow')).Config.Healthcheck, (await inspect('slow')).Config.Healthcheck);
  const conflict = await berth(d, ['create', '--no-healthcheck', '--health-cmd', 'true', 'busybox']);
  assert.equal(conflict.code, 125);
  assert.match(conflict.stderr, /--no-healthcheck conflicts with --health-\* options/);
  assert.equal((await docker(d, ['rm', 'bslow'])).code, 0);
  assert.equal((await docker(d, ['rm', '-f', 'slow'])).code, 0);
});

test('HEALTHCHECK from the image config; --no-healthcheck disables it', async () => {
  assert.equal((await docker(d, ['create', '--name', 'base', 'busybox'])).code, 0);
  const commit = await docker(d, ['commit', '--change', 'HEALTHCHECK --interval=300ms --retries=1 CMD ["test", "-f", "/etc/ok"]', 'base', 'hcimg:1']);
  assert.equal(commit.code, 0, commit.stderr);
  const img = await docker(d, ['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', 'hcimg:1']);
  assert.deepEqual(JSON.parse(img.stdout), { Test: ['CMD', 'test', '-f', '/etc/ok'], Interval: 300_000_000, Retries: 1 });

  assert.equal((await docker(d, ['run', '-d', '--name', 'fromimg', 'hcimg:1', 'sleep', '300'])).code, 0);
  await health('fromimg');
  await status('fromimg', 'unhealthy');
  // A flag overrides one field; the rest comes from the image.
  assert.equal((await docker(d, ['run', '-d', '--name', 'override', '--health-retries', '3', 'hcimg:1', 'sleep', '300'])).code, 0);
  assert.deepEqual((await inspect('override')).Config.Healthcheck, { Test: ['CMD', 'test', '-f', '/etc/ok'], Interval: 300_000_000, Retries: 3 });

  assert.equal((await docker(d, ['run', '-d', '--name', 'nohc', '--no-healthcheck', 'hcimg:1', 'sleep', '300'])).code, 0);
  const none = await inspect('nohc');
  assert.deepEqual(none.Config.Healthcheck?.Test, ['NONE']);
  assert.equal(none.State.Health, undefined);
  assert.doesNotMatch((await docker(d, ['ps', '--filter', 'name=nohc', '--format', '{{.Status}}'])).stdout, /health/);

  const bad = await docker(d, ['run', '--rm', '--health-interval', '1us', '--health-cmd', 'true', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /Interval in Healthcheck cannot be less than 1ms/);
  assert.equal((await docker(d, ['rm', '-f', 'fromimg', 'override', 'nohc', 'base'])).code, 0);
  assert.equal((await docker(d, ['rmi', 'hcimg:1'])).code, 0);
});

test('a paused container is not probed; probes resume at unpause', async () => {
  const run = await docker(d, ['run', '-d', '--name', 'frozen', '--health-cmd', 'true', '--health-interval', '200ms', 'busybox', 'sleep', '300']);
  assert.equal(run.code, 0, run.stderr);
  await status('frozen', 'healthy');
  assert.equal((await docker(d, ['pause', 'frozen'])).code, 0);
  const before = (await inspect('frozen')).State.Health!.Log.at(-1)!.End;
  await new Promise((r) => setTimeout(r, 1000));
  const paused = await inspect('frozen');
  assert.equal(paused.State.Status, 'paused');
  assert.equal(paused.State.Health!.Log.at(-1)!.End, before, 'no probe while paused');
  assert.equal((await docker(d, ['unpause', 'frozen'])).code, 0);
  await until('a probe after unpause', () => inspect('frozen'), (s) => s.State.Health!.Log.at(-1)!.End !== before);
  assert.equal((await inspect('frozen')).State.Health!.Status, 'healthy');
  assert.equal((await docker(d, ['rm', '-f', 'frozen'])).code, 0);
});
