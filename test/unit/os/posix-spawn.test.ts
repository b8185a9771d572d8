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

test('posix_spawn: extra sockets as fds 3 and 4 and stderr to a given fd, for a monitor that daemonizes', async (t) => {
  const b = await posixSpawn();
  if (!b) return t.skip('koffi is not available here');
  const { openSync, closeSync, readFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/berth-ps-');
  try {
    const errFd = openSync(`${dir}/err`, 'a');
    // Like conmon: answer on fd 3, read the start byte from fd 4, leave a grandchild holding the fds.
    const c = b.spawn('/bin/sh', ['sh', '-c', 'echo ready >&3; read -r x <&4; echo "got $x" >&3; echo diag >&2; pwd >&2; (sleep 0.3 <&- 3>&- 4>&- &); ls /proc/$$/fd >&3; exit 5'], { env, stderrFd: errFd, extraSockets: 2, cwd: dir });
    closeSync(errFd);
    assert.equal(c.sockets.length, 2);
    const [sync, start] = c.sockets;
    start.end('go\n');
    const out = await text(sync);
    assert.equal(await c.exited, 5, 'reaped without an exit pipe');
    const lines = out.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['ready', 'got go']);
    // 0-2 and the two sockets; no exit pipe, nothing of the daemon's (dash keeps its own fds at 10+)
    assert.deepEqual(lines.slice(2).filter((f) => Number(f) < 10).sort(), ['0', '1', '2', '3', '4']);
    assert.equal(readFileSync(`${dir}/err`, 'utf8'), `diag\n${dir}\n`, 'stderr to the given fd, in the given cwd');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
