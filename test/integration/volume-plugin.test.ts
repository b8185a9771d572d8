// Volume plugins through Docker's protocol, with the reference plugin (examples/volume-plugin)
// and the real docker CLI: create/mount/unmount/remove go through the plugin, asserted from its
// call log. Plugins are discovered in a directory of this test (berthd --plugin-dir), never in
// /run/docker/plugins or /etc/docker/plugins.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDaemon, docker, NODE, ROOT } from '../helpers/daemon.ts';

const base = mkdtempSync(join(tmpdir(), 'berth-plugin-'));
const pluginDir = join(base, 'plugins');
const plugins: ChildProcess[] = [];

/** Start one reference plugin serving `socket`; resolves once it listens. */
async function startPlugin(socket: string, root: string): Promise<void> {
  const p = spawn(NODE, [join(ROOT, 'examples/volume-plugin/plugin.ts'), '--socket', socket, '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  plugins.push(p);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`plugin did not start: ${out}`)), 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('listening')) {
        clearTimeout(t);
        resolve();
      }
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', () => reject(new Error(`plugin exited: ${out}`)));
  });
}

const refRoot = join(base, 'refvol');
const logFile = join(refRoot, 'calls.log');
let started: Promise<void> | undefined;
const ready = (): Promise<void> => (started ??= startPlugin(join(pluginDir, 'refvol.sock'), refRoot));

const daemon = useDaemon({ args: ['--plugin-dir', pluginDir] });
after(() => {
  for (const p of plugins) p.kill('SIGTERM');
  rmSync(base, { recursive: true, force: true });
});

interface Call {
  method: string;
  Name?: string;
  ID?: string;
  Opts?: Record<string, string>;
}

function calls(): Call[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call);
}

async function ok(args: string[]): Promise<string> {
  await ready();
  const r = await docker(daemon(), args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${daemon().logs.slice(-3000)}`);
  return r.stdout;
}

test('volume create, mount, unmount and remove go through the plugin', async () => {
  assert.equal((await ok(['volume', 'create', '-d', 'refvol', '-o', 'seed=from the plugin', 'pv'])).trim(), 'pv');
  const created = calls();
  assert.equal(created[0].method, 'Plugin.Activate');
  assert.deepEqual(created.find((c) => c.method === 'VolumeDriver.Create'), { method: 'VolumeDriver.Create', Name: 'pv', Opts: { seed: 'from the plugin' } });

  const v = JSON.parse(await ok(['volume', 'inspect', 'pv']))[0];
  assert.equal(v.Driver, 'refvol');
  assert.equal(v.Name, 'pv');
  assert.deepEqual(v.Options, { seed: 'from the plugin' });
  assert.equal(v.Status.mounts, 0);

  const before = calls().length;
  const out = await ok(['run', '--name', 'pc', '-v', 'pv:/data', 'busybox', 'sh', '-c', 'cat /data/seed; echo; echo written > /data/w']);
  assert.equal(out, 'from the plugin\n');
  const id = (await ok(['inspect', '--format', '{{.Id}}', 'pc'])).trim();
  const run = calls().slice(before);
  const mount = run.find((c) => c.method === 'VolumeDriver.Mount');
  assert.deepEqual(mount, { method: 'VolumeDriver.Mount', Name: 'pv', ID: id });
  // the container has exited: its unmount went through the plugin as well
  for (let i = 0; i < 100 && !calls().some((c) => c.method === 'VolumeDriver.Unmount'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(calls().find((c) => c.method === 'VolumeDriver.Unmount'), { method: 'VolumeDriver.Unmount', Name: 'pv', ID: id });
  assert.equal(readFileSync(join(refRoot, 'volumes', 'pv', 'w'), 'utf8'), 'written\n');
  const mounts = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'pc']));
  assert.equal(mounts[0].Driver, 'refvol');
  assert.equal(mounts[0].Name, 'pv');

  // in use by a container: 409, and the plugin is not asked to remove it
  const busy = await docker(daemon(), ['volume', 'rm', 'pv']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /volume is in use/);
  assert.equal(calls().some((c) => c.method === 'VolumeDriver.Remove'), false);
  await ok(['rm', 'pc']);
  // a start that fails after the plugin mounted the volume unmounts it again
  const failed = await docker(daemon(), ['run', '--name', 'pfail', '-v', 'pv:/data', 'busybox', '/no/such/command']);
  assert.equal(failed.code, 127);
  const failId = (await ok(['inspect', '--format', '{{.Id}}', 'pfail'])).trim();
  assert.ok(calls().some((c) => c.method === 'VolumeDriver.Mount' && c.ID === failId));
  assert.ok(calls().some((c) => c.method === 'VolumeDriver.Unmount' && c.ID === failId), 'unmounted after the failed start');
  await ok(['rm', 'pfail']);
  await ok(['volume', 'rm', 'pv']);
  assert.deepEqual(calls().find((c) => c.method === 'VolumeDriver.Remove'), { method: 'VolumeDriver.Remove', Name: 'pv' });
  assert.ok(!existsSync(join(refRoot, 'volumes', 'pv')));
});

test('--mount with volume-driver creates the volume through the plugin; anonymous plugin volumes go with rm -v', async () => {
  await ok(['run', '--rm', '--mount', 'type=volume,source=mv,target=/m,volume-driver=refvol,volume-opt=seed=opt', 'busybox', 'cat', '/m/seed']);
  assert.deepEqual(calls().find((c) => c.method === 'VolumeDriver.Create' && c.Name === 'mv'), { method: 'VolumeDriver.Create', Name: 'mv', Opts: { seed: 'opt' } });
  assert.match(await ok(['volume', 'ls', '--filter', 'driver=refvol']), /^refvol\s+mv$/m);
  await ok(['volume', 'rm', 'mv']);

  await ok(['run', '--name', 'anonp', '--volume-driver', 'refvol', '-v', '/anon', 'busybox', 'true']);
  const name = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'anonp']))[0].Name as string;
  assert.ok(calls().some((c) => c.method === 'VolumeDriver.Create' && c.Name === name));
  await ok(['rm', '-v', 'anonp']);
  assert.ok(calls().some((c) => c.method === 'VolumeDriver.Remove' && c.Name === name));
});

test('plugins are found through .spec files too; an unknown driver is a clear error', async () => {
  await ready();
  const otherSock = join(base, 'elsewhere', 'spec.sock');
  await startPlugin(otherSock, join(base, 'specvol'));
  writeFileSync(join(pluginDir, 'specvol.spec'), `unix://${otherSock}\n`);
  assert.equal((await ok(['volume', 'create', '-d', 'specvol', 'sv'])).trim(), 'sv');
  assert.ok(existsSync(join(base, 'specvol', 'volumes', 'sv')));
  await ok(['volume', 'rm', 'sv']);
  const bad = await docker(daemon(), ['volume', 'create', '-d', 'nosuchplugin', 'x1']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /plugin "nosuchplugin" not found/);
  const run = await docker(daemon(), ['run', '--rm', '--volume-driver', 'nosuchplugin', '-v', 'x2:/x', 'busybox', 'true']);
  assert.equal(run.code, 125);
  assert.match(run.stderr, /plugin "nosuchplugin" not found/);
  assert.equal((await ok(['volume', 'ls', '-q'])).trim(), '');
});

test('a container that exits while berthd is down gets its plugin volume unmounted at restart', async () => {
  const d = daemon();
  await ok(['volume', 'create', '-d', 'refvol', 'durablep']);
  await ok(['run', '-d', '--name', 'lp', '-v', 'durablep:/d', 'busybox', 'sh', '-c', 'echo kept > /d/f; while [ ! -e /d/stop ]; do sleep 0.1; done']);
  const [id, pid] = (await ok(['inspect', '--format', '{{.Id}} {{.State.Pid}}', 'lp'])).trim().split(' ');
  await d.kill9();
  // the container exits while the daemon is down (conmon records it)
  writeFileSync(join(refRoot, 'volumes', 'durablep', 'stop'), '');
  for (let i = 0; i < 300 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!existsSync(`/proc/${pid}`), 'the container exited');
  await d.start({}, ['--plugin-dir', pluginDir]);
  for (let i = 0; i < 100 && !calls().some((c) => c.method === 'VolumeDriver.Unmount' && c.ID === id); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(calls().some((c) => c.method === 'VolumeDriver.Unmount' && c.ID === id), 'unmount after restart\n' + d.logs.slice(-4000));
  assert.equal(readFileSync(join(refRoot, 'volumes', 'durablep', 'f'), 'utf8'), 'kept\n');
  await ok(['rm', 'lp']);
  await ok(['volume', 'rm', 'durablep']);
});
