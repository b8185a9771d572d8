// system df, container prune with filters, export → import round trip (issue 3, part B).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDaemon, docker, berth } from '../helpers/daemon.ts';

const daemon = useDaemon();
const work = mkdtempSync(join(tmpdir(), 'berth-dfp-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Df {
  LayersSize: number;
  Images: Array<{ Id: string; Containers: number; SharedSize: number; Size: number }>;
  Containers: Array<{ Id: string; Names: string[]; SizeRw: number; SizeRootFs: number }>;
  Volumes: unknown[];
  BuildCache: unknown[] | null;
}

test('system df: image and container sizes; docker system df prints the four rows', async () => {
  const d = daemon();
  const run = await docker(d, ['run', '--name', 'dfwriter', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /big']);
  assert.equal(run.code, 0, run.stderr);
  const r = await d.api('GET', '/system/df');
  assert.equal(r.status, 200);
  const df = r.json<Df>();
  assert.ok(df.LayersSize > 0);
  const busybox = df.Images.find((i) => i.Containers >= 1);
  assert.ok(busybox, JSON.stringify(df.Images));
  assert.ok(busybox.Size > 0);
  const c = df.Containers.find((x) => x.Names[0] === '/dfwriter')!;
  assert.ok(c.SizeRw >= 100000, `SizeRw ${c.SizeRw}`);
  assert.equal(c.SizeRootFs, c.SizeRw + busybox.Size);
  assert.ok(Array.isArray(df.Volumes));
  const typed = (await d.api('GET', '/system/df?type=container')).json<Partial<Df>>();
  assert.equal(typed.Images, undefined);
  assert.ok(Array.isArray(typed.Containers));

  const cli = await docker(d, ['system', 'df']);
  assert.equal(cli.code, 0, cli.stderr);
  const lines = cli.stdout.trim().split('\n');
  assert.match(lines[0], /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  assert.match(cli.stdout, /^Images\s+\d+\s+\d+\s+/m);
  assert.match(cli.stdout, /^Containers\s+\d+\s+0\s+\d/m);
  assert.match(cli.stdout, /^Local Volumes\s+/m);
  assert.match(cli.stdout, /^Build Cache\s+/m);
  const b = await berth(d, ['system', 'df']);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/)[0]).join(','), 'TYPE,Images,Containers,Local Volumes,Build Cache');
  const ps = await docker(d, ['ps', '-a', '-s', '--filter', 'name=dfwriter', '--format', '{{.Size}}']);
  assert.match(ps.stdout, /^100kB \(virtual /);
  await docker(d, ['rm', 'dfwriter']);
});

test('container prune removes stopped containers only, honouring label and until filters', async () => {
  const d = daemon();
  for (const [name, label] of [['keep-running', 'x'], ['old-a', 'prune=yes'], ['old-b', 'prune=no']] as const) {
    const args = name === 'keep-running' ? ['run', '-d', '--name', name, 'busybox', 'sleep', '60'] : ['run', '--name', name, '--label', label, 'busybox', 'true'];
    const r = await docker(d, args);
    assert.equal(r.code, 0, r.stderr);
  }
  const created = await docker(d, ['create', '--name', 'fresh-created', 'busybox', 'true']);
  assert.equal(created.code, 0, created.stderr);
  const names = async (): Promise<string[]> => (await docker(d, ['ps', '-a', '--format', '{{.Names}}'])).stdout.trim().split('\n').sort();

  // until=1h: everything was created just now, so nothing is old enough.
  const none = await docker(d, ['container', 'prune', '-f', '--filter', 'until=1h']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout.trim(), 'Total reclaimed space: 0B');
  const labelled = await docker(d, ['container', 'prune', '-f', '--filter', 'label=prune=yes']);
  assert.equal(labelled.code, 0, labelled.stderr);
  assert.match(labelled.stdout, /^Deleted Containers:\n[a-f0-9]{64}\n\nTotal reclaimed space: /);
  assert.deepEqual(await names(), ['fresh-created', 'keep-running', 'old-b']);

  const api = await d.api('POST', '/containers/prune?filters=' + encodeURIComponent(JSON.stringify({ 'label!': ['prune=no'] })));
  assert.equal(api.status, 200);
  assert.equal(api.json<{ ContainersDeleted: string[] }>().ContainersDeleted.length, 1);
  assert.deepEqual(await names(), ['keep-running', 'old-b']);
  const b = await berth(d, ['container', 'prune', '-f']);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(await names(), ['keep-running']);
  const bad = await d.api('POST', '/containers/prune?filters=' + encodeURIComponent(JSON.stringify({ until: ['yesterday-ish'] })));
  assert.equal(bad.status, 400);
  const badKey = await d.api('POST', '/containers/prune?filters=' + encodeURIComponent(JSON.stringify({ status: ['exited'] })));
  assert.equal(badKey.status, 400);
  await docker(d, ['rm', '-f', 'keep-running']);
});

test('export | import with --change and --message makes a runnable image', async () => {
  const d = daemon();
  const run = await docker(d, ['run', '--name', 'exp-src', 'busybox', 'sh', '-c', 'echo round-trip > /marker']);
  assert.equal(run.code, 0, run.stderr);
  const tarPath = join(work, 'rootfs.tar');
  assert.equal((await docker(d, ['export', '-o', tarPath, 'exp-src'])).code, 0);
  const imp = await docker(d, ['import', '-c', 'CMD ["cat", "/marker"]', '-c', 'ENV IMPORTED=1', '-m', 'from export', tarPath, 'roundtrip:v1']);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
  const out = await docker(d, ['run', '--rm', 'roundtrip:v1']);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'round-trip\n');
  const env = await docker(d, ['run', '--rm', 'roundtrip:v1', 'sh', '-c', 'echo $IMPORTED']);
  assert.equal(env.stdout, '1\n');
  const hist = await docker(d, ['history', '--format', '{{.Comment}}', 'roundtrip:v1']);
  assert.equal(hist.stdout.trim(), 'from export');
  const bad = await docker(d, ['import', '-c', 'RUN true', tarPath, 'roundtrip:bad']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /run is not a valid change command/);
  await docker(d, ['rm', 'exp-src']);
});
