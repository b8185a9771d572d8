// The build context as the docker CLI sends it in its less common forms (issue 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDaemon, docker } from '../helpers/daemon.ts';

const daemon = useDaemon();
const work = mkdtempSync(join(tmpdir(), 'berth-build-ctx-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const LONG = { timeoutMs: 120_000 };

function context(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

test('docker build -f - DIR: the Dockerfile from stdin, the context from DIR; neither the Dockerfile nor .dockerignore is copied', async () => {
  // The CLI adds the Dockerfile as .dockerfile.<random> plus a .dockerignore naming both, and
  // ends the tar right after the last file (no padding, no end-of-archive blocks).
  const dir = context('stdin-df', { 'app/a.txt': 'a\n', 'b.txt': 'b\n' });
  const r = await docker(daemon(), ['build', '-t', 'ctx:stdin', '-f', '-', dir], { input: 'FROM busybox\nCOPY . /c/\n', ...LONG });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((await docker(daemon(), ['run', '--rm', 'ctx:stdin', 'ls', '-A', '/c'])).stdout, 'app\nb.txt\n');
  const again = await docker(daemon(), ['build', '-t', 'ctx:stdin', '-f', '-', dir], { input: 'FROM busybox\nCOPY . /c/\n', ...LONG });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, / ---> Using cache/);
});

test('.dockerignore that names the Dockerfile keeps it out of COPY . (as dockerd); the build still reads it', async () => {
  const dir = context('ignored-df', { Dockerfile: 'FROM busybox\nCOPY . /c/\n', '.dockerignore': 'Dockerfile\n', 'x.txt': 'x\n' });
  const r = await docker(daemon(), ['build', '-t', 'ctx:ignored', dir], LONG);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((await docker(daemon(), ['run', '--rm', 'ctx:ignored', 'ls', '-A', '/c'])).stdout, '.dockerignore\nx.txt\n');
});
