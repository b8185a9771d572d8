// Events, logs options, wait conditions and ps filters through berth's typed client (issue 2).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { TestDaemon, docker } from '../helpers/daemon.ts';
import { EngineClient } from '../../src/client/index.ts';
import { frames } from '../../src/client/demux.ts';
import type { EventMessage } from '../../src/types/docker.ts';

let d: TestDaemon;
let client: EngineClient;
before(async () => {
  d = new TestDaemon();
  await d.start();
  await d.importBusybox();
  client = new EngineClient({ host: d.host });
});
after(async () => {
  client?.close();
  await d?.cleanup();
});

async function collect(res: Readable): Promise<Array<{ stream: number; text: string }>> {
  const out: Array<{ stream: number; text: string }> = [];
  for await (const f of frames(res)) out.push({ stream: f.stream, text: f.payload.toString() });
  return out;
}

async function runToExit(cmd: string[], name: string): Promise<string> {
  const { Id } = await client.containers.create({ Image: 'busybox', Cmd: cmd }, { name });
  const wait = await client.containers.beginWait(Id, { condition: 'next-exit' });
  await client.containers.start(Id);
  await wait.result;
  return Id;
}

test('events: a container lifecycle is streamed and replayed with since/until', async () => {
  const since = (Date.now() / 1000).toFixed(9);
  const abort = new AbortController();
  const live: EventMessage[] = [];
  const reading = (async () => {
    for await (const ev of client.system.events({ filters: { type: ['container'], container: ['evented'] }, signal: abort.signal })) {
      live.push(ev);
      if (ev.Action === 'destroy') break;
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  const id = await runToExit(['sh', '-c', 'exit 4'], 'evented');
  await client.containers.remove(id);
  await reading;
  abort.abort();
  assert.deepEqual(live.map((e) => e.Action), ['create', 'start', 'die', 'destroy']);
  const die = live[2];
  assert.equal(die.Actor.Attributes.exitCode, '4');
  assert.equal(die.Actor.Attributes.name, 'evented');
  assert.equal(die.from, 'busybox');
  // Replay: since/until in the past ends the stream.
  const until = (Date.now() / 1000 + 0.001).toFixed(9);
  const replay: string[] = [];
  for await (const ev of client.system.events({ since, until, filters: { event: ['die'] } })) replay.push(`${ev.Action} ${ev.Actor.Attributes.name}`);
  assert.deepEqual(replay, ['die evented']);
  // The real CLI reads the same stream.
  const cli = await docker(d, ['events', '--since', since, '--until', until, '--filter', 'event=destroy', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  assert.equal(cli.stdout.trim(), 'destroy evented');
});

test('logs: stdout/stderr selection, tail, timestamps, since/until, follow', async () => {
  const id = await runToExit(['sh', '-c', 'echo one; echo two >&2; sleep 1.1; echo three'], 'logger');
  const all = await collect(await client.containers.logs(id));
  assert.deepEqual(all, [
    { stream: 1, text: 'one\n' },
    { stream: 2, text: 'two\n' },
    { stream: 1, text: 'three\n' },
  ]);
  assert.deepEqual((await collect(await client.containers.logs(id, { stderr: false }))).map((f) => f.text), ['one\n', 'three\n']);
  assert.deepEqual((await collect(await client.containers.logs(id, { tail: '1' }))).map((f) => f.text), ['three\n']);
  const stamped = await collect(await client.containers.logs(id, { timestamps: true, tail: '1' }));
  assert.match(stamped[0].text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$/);
  const t3 = Date.parse(stamped[0].text.split(' ')[0]) / 1000;
  assert.deepEqual((await collect(await client.containers.logs(id, { since: (t3 - 0.5).toFixed(9) }))).map((f) => f.text), ['three\n']);
  assert.deepEqual((await collect(await client.containers.logs(id, { until: (t3 - 0.5).toFixed(9) }))).map((f) => f.text), ['one\n', 'two\n']);
  await client.containers.remove(id);

  // follow: streams new lines and ends when the container exits.
  const { Id } = await client.containers.create({ Image: 'busybox', Cmd: ['sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.2; done'] });
  await client.containers.start(Id);
  const followed = await collect(await client.containers.logs(Id, { follow: true }));
  assert.deepEqual(followed.map((f) => f.text), ['tick 1\n', 'tick 2\n', 'tick 3\n']);
  await client.containers.remove(Id);
});

test('wait: not-running returns at once for a stopped container; removed waits for rm', async () => {
  const { Id } = await client.containers.create({ Image: 'busybox', Cmd: ['sh', '-c', 'exit 9'] });
  assert.deepEqual(await client.containers.wait(Id, { condition: 'not-running' }), { StatusCode: 0, Error: null });
  const exit = await client.containers.beginWait(Id, { condition: 'next-exit' });
  const removed = await client.containers.beginWait(Id, { condition: 'removed' });
  await client.containers.start(Id);
  assert.equal((await exit.result).StatusCode, 9);
  assert.equal((await client.containers.wait(Id)).StatusCode, 9);
  await client.containers.remove(Id);
  assert.equal((await removed.result).StatusCode, 9);
});

test('ps filters: id, name, label, status, ancestor, exited; all and limit', async () => {
  const a = await client.containers.create({ Image: 'busybox', Cmd: ['sleep', '60'], Labels: { role: 'a' } }, { name: 'filt-a' });
  const b = await client.containers.create({ Image: 'busybox', Cmd: ['sh', '-c', 'exit 2'], Labels: { role: 'b' } }, { name: 'filt-b' });
  await client.containers.start(a.Id);
  const wb = await client.containers.beginWait(b.Id, { condition: 'next-exit' });
  await client.containers.start(b.Id);
  await wb.result;
  const names = async (opts: Parameters<EngineClient['containers']['list']>[0]): Promise<string[]> => (await client.containers.list(opts)).map((c) => c.Names[0]).sort();
  assert.deepEqual(await names({}), ['/filt-a']);
  assert.deepEqual(await names({ all: true }), ['/filt-a', '/filt-b']);
  assert.deepEqual(await names({ all: true, filters: { label: ['role=b'] } }), ['/filt-b']);
  assert.deepEqual(await names({ all: true, filters: { status: ['exited'] } }), ['/filt-b']);
  assert.deepEqual(await names({ all: true, filters: { exited: ['2'] } }), ['/filt-b']);
  assert.deepEqual(await names({ all: true, filters: { name: ['filt-a'] } }), ['/filt-a']);
  assert.deepEqual(await names({ all: true, filters: { id: [a.Id.slice(0, 10)] } }), ['/filt-a']);
  assert.deepEqual(await names({ all: true, filters: { ancestor: ['busybox'] } }), ['/filt-a', '/filt-b']);
  assert.deepEqual(await names({ all: true, filters: { ancestor: ['nosuchimage'] } }), []);
  assert.equal((await client.containers.list({ all: true, limit: 1 })).length, 1);
  await assert.rejects(client.containers.list({ filters: { status: ['bogus'] } }), /invalid filter/);
  const [summary] = await client.containers.list({ filters: { name: ['filt-a'] } });
  assert.equal(summary.Command, 'sleep 60');
  assert.match(summary.Status, /^Up /);
  assert.equal(summary.State, 'running');
  await client.containers.remove(a.Id, { force: true });
  await client.containers.remove(b.Id);
});

test('inspect has Docker\'s shape', async () => {
  const { Id } = await client.containers.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 64 << 20, NanoCpus: 5e8, PidsLimit: 50, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } } }, { name: 'shape' });
  const c = await client.containers.inspect(Id);
  assert.equal(c.Name, '/shape');
  assert.equal(c.Path, 'true');
  assert.deepEqual(c.Args, []);
  assert.equal(c.State.Status, 'created');
  assert.equal(c.State.FinishedAt, '0001-01-01T00:00:00Z');
  assert.match(c.Image, /^sha256:[a-f0-9]{64}$/);
  assert.equal(c.Config.Hostname, Id.slice(0, 12));
  assert.equal(c.HostConfig.Memory, 67108864);
  assert.equal(c.HostConfig.NanoCpus, 500000000);
  assert.equal(c.HostConfig.PidsLimit, 50);
  assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.ok(Array.isArray(c.HostConfig.MaskedPaths));
  await client.containers.remove(Id);
});
