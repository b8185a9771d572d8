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

test('exit waits for a built stdout to drain into a slow pipe, and exits at once when none was built', async () => {
  const { spawn } = await import('node:child_process');
  const main = join(ROOT, 'dist/cmd/berth-main.js');
  const script = (body: string): string => `import { watchStdout, exitWhenFlushed } from ${JSON.stringify(main)}; watchStdout(); ${body}`;
  // 4 MB through a pipe that is read late: the writes queue (pipes are asynchronous on POSIX)
  const child = spawn(process.execPath, ['--input-type=module', '-e', script(`process.stdout.write('x'.repeat(4 << 20)); exitWhenFlushed(5);`)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => setTimeout(r, 300));
  let bytes = 0;
  child.stdout.on('data', (c: Buffer) => (bytes += c.length));
  const code = await new Promise((r) => child.once('close', r));
  assert.equal(code, 5);
  assert.equal(bytes, 4 << 20);
  // nothing touched stdout: the exit code still comes through, with no output
  const quiet = spawnSync(process.execPath, ['--input-type=module', '-e', script('exitWhenFlushed(7);')], { encoding: 'utf8' });
  assert.equal(quiet.status, 7);
  assert.equal(quiet.stdout, '');
});
