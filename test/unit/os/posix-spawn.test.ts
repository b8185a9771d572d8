// src/os/posix-spawn.ts: posix_spawn through koffi with pipes, the exit pipe and our own reaping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { posixSpawn } from '../../../src/os/posix-spawn.ts';

async function text(r: Readable | undefined): Promise<string> {
  let s = '';
  for await (const c of r ?? []) s += String(c);
  return s;
}

const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

test('posix_spawn: stdout and stderr apart, exit code, no stray fds, own session', async (t) => {
  const b = await posixSpawn();
  if (!b) return t.skip('koffi is not available here');
  const c = b.spawn('/bin/sh', ['sh', '-c', 'echo out; echo err >&2; ls /proc/$$/fd; ps -o sid= -p $$ 2>/dev/null || cut -d" " -f6 /proc/$$/stat; exit 7'], { env, output: true });
  const [out, err, code] = await Promise.all([text(c.stdout), text(c.stderr), c.exited]);
  assert.equal(code, 7);
  assert.equal(err, 'err\n');
  const lines = out.trim().split('\n');
  assert.equal(lines[0], 'out');
  // 0, 1, 2 and the exit pipe (3); nothing of the daemon's
  assert.deepEqual(lines.slice(1, -1).sort(), ['0', '1', '2', '3']);
  assert.equal(Number(lines.at(-1)), c.pid, 'the child leads its own session');
});

test('posix_spawn: stdin pipe, /dev/null without output, signal exit is 128+n', async (t) => {
  const b = await posixSpawn();
  if (!b) return t.skip('koffi is not available here');
  const cat = b.spawn('/bin/cat', ['cat'], { env, stdin: true, output: true });
  cat.stdin!.end('piped\n');
  assert.equal(await text(cat.stdout), 'piped\n');
  assert.equal(await cat.exited, 0);
  const quiet = b.spawn('/bin/sh', ['sh', '-c', 'echo lost; exit 0'], { env });
  assert.equal(quiet.stdout, undefined);
  assert.equal(await quiet.exited, 0);
  const killed = b.spawn('/bin/sh', ['sh', '-c', 'kill -TERM $$; sleep 5'], { env });
  assert.equal(await killed.exited, 143);
  await assert.rejects(async () => b.spawn('/nonexistent/binary', ['x'], { env }));
});
