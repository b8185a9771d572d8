// berthd's path flags are made absolute, as dockerd does: conmon runs in the container's directory
// and runc in others, so a relative --data-root would point somewhere else for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseDaemonFlags } from '../../../src/cmd/berthd-flags.ts';

test('relative --data-root, --exec-root and --pidfile become absolute', () => {
  const cfg = parseDaemonFlags(['--data-root', 'rel/data', '--exec-root', 'rel/run', '--pidfile', 'b.pid']);
  assert.equal(cfg.dataRoot, join(process.cwd(), 'rel/data'));
  assert.equal(cfg.execRoot, join(process.cwd(), 'rel/run'));
  assert.equal(cfg.pidfile, join(process.cwd(), 'b.pid'));
  assert.equal(parseDaemonFlags(['--exec-root', '/x/run']).pidfile, '/x/run/berthd.pid');
});

test('cgroup2 favordynmods is on by default; --no-cgroup-favordynmods leaves the host alone', () => {
  assert.equal(parseDaemonFlags([]).cgroupFavorDynmods, true);
  assert.equal(parseDaemonFlags(['--no-cgroup-favordynmods']).cgroupFavorDynmods, false);
});
