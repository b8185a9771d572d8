// berthd as a system service (issue 3): systemd socket activation (-H fd://) driven by
// systemd-socket-activate, and the unit files scripts/install-service.sh writes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, docker, NODE, BERTHD, ROOT } from '../helpers/daemon.ts';

const d = new TestDaemon();
after(async () => {
  await d.cleanup();
});

test('berthd -H fd:// serves on the socket systemd passes (socket activation)', async () => {
  mkdirSync(d.execRoot, { recursive: true });
  // systemd-socket-activate listens first and starts berthd at the first connection, with LISTEN_FDS.
  d.proc = spawn('systemd-socket-activate', ['-l', d.socket, NODE, BERTHD, '-H', 'fd://', '--data-root', d.dataRoot, '--exec-root', d.execRoot, '--cgroup-parent', d.cgroupParent, ...d.netArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  d.proc.stdout!.on('data', (b: Buffer) => (d.logs += b.toString()));
  d.proc.stderr!.on('data', (b: Buffer) => (d.logs += b.toString()));
  let ping;
  for (let i = 0; i < 150; i++) {
    ping = await d.api('GET', '/_ping').catch(() => undefined);
    if (ping?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(ping?.status, 200, d.logs);
  await d.importBusybox();
  const run = await docker(d, ['run', '--rm', 'busybox', 'echo', 'activated']);
  assert.equal(run.code, 0, run.stderr + d.logs.slice(-2000));
  assert.equal(run.stdout, 'activated\n');
});

test('berthd -H fd:// without systemd refuses to start, with dockerd\'s reason', () => {
  const r = spawnSync(NODE, [BERTHD, '-H', 'fd://', '--data-root', join(d.dir, 'other'), '--exec-root', join(d.dir, 'other-run')], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /no sockets found via socket activation/);
  // Refused before anything is made: no data root (and so no bridge or nft table either).
  assert.ok(!existsSync(join(d.dir, 'other')), 'no data root');
  assert.ok(!existsSync(join(d.dir, 'other-run')), 'no exec root');
});

test('install-service.sh writes valid units for this checkout (enabled only under systemd)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-unit-'));
  try {
    const r = spawnSync(join(ROOT, 'scripts/install-service.sh'), [], { env: { ...process.env, SYSTEMD_UNIT_DIR: dir }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const service = readFileSync(join(dir, 'berthd.service'), 'utf8');
    assert.match(service, new RegExp(`^ExecStart=${ROOT}/bin/berthd -H fd:// `, 'm'));
    assert.match(service, /^KillMode=process$/m, 'containers survive a stop or restart of the service');
    assert.match(service, /^WantedBy=multi-user.target$/m);
    assert.match(readFileSync(join(dir, 'berthd.socket'), 'utf8'), /^ListenStream=\/run\/berth\/berth.sock$/m);
    const verify = spawnSync('systemd-analyze', ['verify', join(dir, 'berthd.socket'), join(dir, 'berthd.service')], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
