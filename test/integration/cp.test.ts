// docker cp / export against a real berthd, including containers that plant hostile symlinks
// (issue 3, part B acceptance).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { useDaemon, docker, berth } from '../helpers/daemon.ts';

const daemon = useDaemon();
const work = mkdtempSync(join(tmpdir(), 'berth-cp-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('docker cp a file into a stopped container and out again', async () => {
  const d = daemon();
  const create = await docker(d, ['create', '--name', 'cpstopped', 'busybox', 'cat', '/tmp/in.txt']);
  assert.equal(create.code, 0, create.stderr);
  const src = join(work, 'in.txt');
  writeFileSync(src, 'copied in\n');
  const cpIn = await docker(d, ['cp', src, 'cpstopped:/tmp/in.txt']);
  assert.equal(cpIn.code, 0, cpIn.stderr + d.logs.slice(-2000));
  const start = await docker(d, ['start', '-a', 'cpstopped']);
  assert.equal(start.code, 0, start.stderr);
  assert.equal(start.stdout, 'copied in\n');

  const outDir = join(work, 'out1');
  mkdirSync(outDir);
  const cpOut = await docker(d, ['cp', 'cpstopped:/tmp/in.txt', outDir + '/']);
  assert.equal(cpOut.code, 0, cpOut.stderr);
  assert.equal(readFileSync(join(outDir, 'in.txt'), 'utf8'), 'copied in\n');
  // A directory comes out whole; a missing path is a clean error.
  const cpDir = await docker(d, ['cp', 'cpstopped:/etc', join(work, 'etc-copy')]);
  assert.equal(cpDir.code, 0, cpDir.stderr);
  assert.ok(existsSync(join(work, 'etc-copy/passwd')));
  const missing = await docker(d, ['cp', 'cpstopped:/nope', join(work, 'nope')]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Could not find the file \/nope in container cpstopped/);
  // Nothing stays mounted for the stopped container.
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(d.execRoot + '/containers/'), 'no rootfs mount left behind');
});

test('docker cp into and out of a running container; berth cp does the same', async () => {
  const d = daemon();
  const run = await docker(d, ['run', '-d', '--name', 'cprunning', 'busybox', 'sh', '-c', 'while [ ! -f /tmp/flag ]; do sleep 0.1; done; cat /tmp/flag; echo made > /tmp/made.txt; sleep 60']);
  assert.equal(run.code, 0, run.stderr);
  const flag = join(work, 'flag');
  writeFileSync(flag, 'go\n');
  const cpIn = await docker(d, ['cp', flag, 'cprunning:/tmp/flag']);
  assert.equal(cpIn.code, 0, cpIn.stderr);
  await waitFor(async () => (await docker(d, ['logs', 'cprunning'])).stdout === 'go\n', 'the container to see the copied file');
  const out = join(work, 'made.txt');
  await waitFor(async () => (await docker(d, ['cp', 'cprunning:/tmp/made.txt', out])).code === 0, 'made.txt');
  assert.equal(readFileSync(out, 'utf8'), 'made\n');

  const bOut = join(work, 'berth-made.txt');
  const b = await berth(d, ['cp', 'cprunning:/tmp/made.txt', bOut]);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(readFileSync(bOut, 'utf8'), 'made\n');
  const dirIn = join(work, 'tree');
  mkdirSync(join(dirIn, 'sub'), { recursive: true });
  writeFileSync(join(dirIn, 'sub/leaf.txt'), 'leaf\n');
  const bIn = await berth(d, ['cp', dirIn, 'cprunning:/opt']);
  assert.equal(bIn.code, 0, bIn.stderr);
  const back = await docker(d, ['cp', 'cprunning:/opt/sub/leaf.txt', '-']);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /leaf\n/);
  await docker(d, ['rm', '-f', 'cprunning']);
});

test('docker cp reaches volumes, binds and tmpfs mounts (running and stopped containers)', async () => {
  const d = daemon();
  const file = join(work, 'vol-payload');
  writeFileSync(file, 'into-volume\n');
  const run = await docker(d, ['run', '-d', '--name', 'cpvol', '-v', 'cpdata:/data', '--tmpfs', '/scratch', 'busybox', 'sleep', '60']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((await docker(d, ['cp', file, 'cpvol:/data/f'])).code, 0);
  const viaOther = await docker(d, ['run', '--rm', '-v', 'cpdata:/data', 'busybox', 'cat', '/data/f']);
  assert.equal(viaOther.stdout, 'into-volume\n', viaOther.stderr);
  const tmp = await docker(d, ['cp', file, 'cpvol:/scratch/t']);
  assert.equal(tmp.code, 0, tmp.stderr);
  const back = await docker(d, ['cp', 'cpvol:/scratch/t', '-']);
  assert.match(back.stdout, /into-volume/);
  await docker(d, ['rm', '-f', 'cpvol']);

  const bindDir = mkdtempSync(join(tmpdir(), 'berth-cp-bind-'));
  try {
    const create = await docker(d, ['create', '--name', 'cpbind', '-v', `${bindDir}:/b`, 'busybox', 'true']);
    assert.equal(create.code, 0, create.stderr);
    const cp = await docker(d, ['cp', file, 'cpbind:/b/x']);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(readFileSync(join(bindDir, 'x'), 'utf8'), 'into-volume\n');
    writeFileSync(join(bindDir, 'from-host'), 'host-side\n');
    const out = await docker(d, ['cp', 'cpbind:/b/from-host', '-']);
    assert.match(out.stdout, /host-side/);
  } finally {
    await docker(d, ['rm', '-f', 'cpbind']);
    rmSync(bindDir, { recursive: true, force: true });
  }
});

async function hostileSymlinks(running: boolean): Promise<void> {
  const d = daemon();
  const name = running ? 'hostile-running' : 'hostile';
  // A host directory the container knows the absolute path of, with a secret in it.
  const hostDir = mkdtempSync(join(tmpdir(), 'berth-cp-host-'));
  try {
    writeFileSync(join(hostDir, 'secret'), 'host-secret\n');
    const before = readdirSync(hostDir).sort();
    const beforeTmp = readdirSync('/tmp').filter((n) => n.startsWith('berth-pwned')).length;
    const plant = [
      'ln -s / /escape',
      `ln -s ${hostDir} /hostdir`,
      `ln -s ../../../../../../../../..${hostDir} /deep`,
      'mkdir -p /a/b && ln -s ../../../../../../tmp /a/b/up',
      `ln -s ${hostDir}/secret /leak`,
    ].join(' && ');
    const run = await docker(d, running ? ['run', '-d', '--name', name, 'busybox', 'sh', '-c', `${plant} && touch /planted && sleep 60`] : ['run', '--name', name, 'busybox', 'sh', '-c', plant]);
    assert.equal(run.code, 0, run.stderr);
    if (running) {
      for (let i = 0; i < 200 && (await docker(d, ['cp', `${name}:/planted`, '-'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    }

    const file = join(work, 'payload');
    writeFileSync(file, 'pwned\n');
    // Writes through the planted links land inside the container (or fail), never on the host.
    const attempts = [
      `${name}:/escape/tmp/berth-pwned-1`,
      `${name}:/escape/escape/../../tmp/berth-pwned-2`,
      `${name}:/a/b/up/berth-pwned-3`,
      `${name}:/hostdir/pwned`,
      `${name}:/deep/pwned`,
      `${name}:/hostdir/`,
    ];
    for (const dst of attempts) await docker(d, ['cp', file, dst]);
    assert.deepEqual(readdirSync(hostDir).sort(), before, 'nothing was written into the host directory');
    assert.equal(readFileSync(join(hostDir, 'secret'), 'utf8'), 'host-secret\n');
    assert.equal(readdirSync('/tmp').filter((n) => n.startsWith('berth-pwned')).length, beforeTmp, 'nothing was written into the host /tmp');
    // The resolvable ones landed in the container's own /tmp.
    const inside = await docker(d, ['cp', `${name}:/tmp/berth-pwned-1`, '-']);
    assert.equal(inside.code, 0, inside.stderr);
    assert.match(inside.stdout, /pwned/);

    // Reads through the links never return host content.
    for (const src of [`${name}:/hostdir/secret`, `${name}:/deep/secret`, `${name}:/escape/` + hostDir.slice(1) + '/secret', `${name}:/leak/.`]) {
      const r = await docker(d, ['cp', src, '-']);
      assert.ok(!r.stdout.includes('host-secret'), `${src} leaked host content`);
    }
    // The link itself comes out as a link.
    const linkOut = join(work, `leak-copy-${name}`);
    const l = await docker(d, ['cp', `${name}:/leak`, linkOut]);
    assert.equal(l.code, 0, l.stderr);
    assert.ok(lstatSync(linkOut).isSymbolicLink(), 'the planted link is copied as a link, not followed by berthd');
    const head = await d.api('HEAD', `/containers/${name}/archive?path=${encodeURIComponent('/hostdir/secret')}`);
    assert.equal(head.status, 404);
  } finally {
    rmSync(hostDir, { recursive: true, force: true });
    await docker(d, ['rm', '-f', name]);
  }
}

test('a stopped container that planted /escape -> / and ../../ chains cannot make cp write or read outside its rootfs', () => hostileSymlinks(false));
test('a running container with planted symlinks cannot either (seen through /proc/<pid>/root)', () => hostileSymlinks(true));

test('docker export writes the rootfs as a tar; the path stat header is docker-shaped', async () => {
  const d = daemon();
  const run = await docker(d, ['run', '--name', 'exported', 'busybox', 'sh', '-c', 'echo exported > /marker']);
  assert.equal(run.code, 0, run.stderr);
  const tarPath = join(work, 'export.tar');
  const exp = await docker(d, ['export', '-o', tarPath, 'exported']);
  assert.equal(exp.code, 0, exp.stderr);
  const names = execFileSync('tar', ['-tf', tarPath], { encoding: 'utf8' }).split('\n');
  assert.ok(names.includes('marker'), names.slice(0, 20).join(','));
  assert.ok(names.includes('bin/'));
  const b = await berth(d, ['export', '-o', join(work, 'export2.tar'), 'exported']);
  assert.equal(b.code, 0, b.stderr);
  assert.ok(execFileSync('tar', ['-tf', join(work, 'export2.tar')], { encoding: 'utf8' }).split('\n').includes('marker'));

  const head = await d.api('HEAD', `/containers/exported/archive?path=${encodeURIComponent('/marker')}`);
  assert.equal(head.status, 200);
  const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
  assert.equal(stat.name, 'marker');
  assert.equal(stat.size, 'exported\n'.length);
  assert.equal(stat.mode, 0o644);
  assert.equal(stat.linkTarget, '');
  assert.match(String(stat.mtime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const dirHead = await d.api('HEAD', `/containers/exported/archive?path=/etc`);
  const dirStat = JSON.parse(Buffer.from(String(dirHead.headers['x-docker-container-path-stat']), 'base64').toString()) as { mode: number };
  assert.equal(dirStat.mode, (0x80000000 | 0o755) >>> 0);
  await docker(d, ['rm', 'exported']);
});

test('archive API errors: missing path, extraction onto a file, unknown container, read-only rootfs', async () => {
  const d = daemon();
  const c = await docker(d, ['create', '--name', 'cperr', 'busybox', 'true']);
  assert.equal(c.code, 0, c.stderr);
  const noPath = await d.api('GET', '/containers/cperr/archive');
  assert.equal(noPath.status, 400);
  assert.match(noPath.json<{ message: string }>().message, /path/);
  const onFile = await d.api('PUT', '/containers/cperr/archive?path=/etc/passwd', Buffer.alloc(1024), { 'Content-Type': 'application/x-tar' });
  assert.equal(onFile.status, 400);
  assert.equal(onFile.json<{ message: string }>().message, 'extraction point is not a directory');
  const missing = await d.api('PUT', '/containers/cperr/archive?path=/no/such/dir', Buffer.alloc(1024), { 'Content-Type': 'application/x-tar' });
  assert.equal(missing.status, 404);
  const unknown = await d.api('GET', '/containers/nosuch/archive?path=/');
  assert.equal(unknown.status, 404);
  assert.match(unknown.json<{ message: string }>().message, /No such container: nosuch/);
  const ro = await docker(d, ['create', '--name', 'cpro', '--read-only', 'busybox', 'true']);
  assert.equal(ro.code, 0, ro.stderr);
  const roPut = await d.api('PUT', '/containers/cpro/archive?path=/tmp', Buffer.alloc(1024), { 'Content-Type': 'application/x-tar' });
  assert.equal(roPut.status, 409);
  // A bad tar is an error, and nothing stays mounted.
  const garbage = await d.api('PUT', '/containers/cperr/archive?path=/tmp', Buffer.from('this is not a tar archive, not at all'.repeat(20)), { 'Content-Type': 'application/x-tar' });
  assert.ok(garbage.status >= 400, String(garbage.status));
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(d.execRoot + '/containers/'), 'no rootfs mount left behind');
  await docker(d, ['rm', 'cperr', 'cpro']);
});
