// The two ways the berth CLI starts: the CommonJS bundle bin/berth runs (dist/berth.cjs, which the
// integration tests also drive) and the unbundled ES modules (dist/cmd/berth.js). Both must be the
// same CLI; the bundle also when reached through a symlink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, ROOT } from '../../helpers/daemon.ts';

const cli = (script: string, args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...process.env, BERTH_HOST: 'unix:///nonexistent/berth.sock' } });

test('the bundle and the ES module entry print the same version and usage', () => {
  const esm = join(ROOT, 'dist/cmd/berth.js');
  for (const args of [['--version'], ['run', '--help']]) {
    const a = cli(BERTH, args);
    const b = cli(esm, args);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
  }
  assert.match(cli(BERTH, ['--version']).stdout, /^berth version /);
  // a daemon that is not there: the same one-line reason and exit status
  const a = cli(BERTH, ['ps']);
  const b = cli(esm, ['ps']);
  assert.notEqual(a.status, 0);
  assert.equal(a.status, b.status);
  assert.equal(a.stderr, b.stderr);
  assert.match(a.stderr, /Cannot connect/);
});

test('the bundle runs through a symlink to it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-link-'));
  try {
    const link = join(dir, 'berth.cjs');
    symlinkSync(BERTH, link);
    const r = cli(link, ['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^berth version /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
