// exec (issue 3): the real docker CLI and berth against a real berthd, conmon --exec underneath.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDaemon, docker, berth, NODE, BERTH } from '../helpers/daemon.ts';
import { runInPty, type PtyStep } from '../helpers/pty.ts';

const daemon = useDaemon();
let webId = '';

/** The running container the tests exec into (made by the first test that needs it). */
async function web(): Promise<void> {
  if (webId) return;
  const r = await docker(daemon(), ['run', '-d', '--name', 'web', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
  webId = r.stdout.trim();
}

test("docker exec prints the container's hostname and propagates exit codes", async () => {
  await web();
  const r = await docker(daemon(), ['exec', 'web', 'sh', '-c', 'echo $HOSTNAME']);
  assert.equal(r.code, 0, r.stderr + daemon().logs.slice(-2000));
  const host = (await docker(daemon(), ['inspect', '-f', '{{.Config.Hostname}}', 'web'])).stdout.trim();
  assert.equal(r.stdout, `${host}\n`);
  assert.equal(host, webId.slice(0, 12));
  const five = await docker(daemon(), ['exec', 'web', 'sh', '-c', 'exit 5']);
  assert.equal(five.code, 5, five.stderr);
});

test('docker exec: stdout/stderr apart, -e, -w, -u, piped stdin, --privileged', async () => {
  await web();
  const r = await docker(daemon(), ['exec', '-e', 'FOO=bar', '-w', '/tmp', '-u', 'nobody', 'web', 'sh', '-c', 'echo $FOO $(pwd) $(id -u); echo err >&2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'bar /tmp 65534\n');
  assert.equal(r.stderr, 'err\n');
  const piped = await docker(daemon(), ['exec', '-i', 'web', 'sh', '-c', 'cat; echo done'], { input: 'hi\n' });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, 'hi\ndone\n');
  const caps = async (args: string[]): Promise<string> => {
    const c = await docker(daemon(), ['exec', ...args, 'web', 'sh', '-c', 'grep CapEff /proc/self/status']);
    assert.equal(c.code, 0, c.stderr);
    return c.stdout.trim().split(/\s+/)[1];
  };
  const plain = await caps([]);
  const privileged = await caps(['--privileged']);
  assert.notEqual(plain, privileged);
  assert.ok(BigInt(`0x${privileged}`) > BigInt(`0x${plain}`), `${privileged} has more capabilities than ${plain}`);
});

test('docker exec of a missing command fails with 126 and the runtime message; a stopped container is 409', async () => {
  await web();
  const r = await docker(daemon(), ['exec', 'web', 'nope']);
  assert.equal(r.code, 126);
  assert.match(r.stdout + r.stderr, /executable file not found/);
  const stopped = await docker(daemon(), ['create', '--name', 'idle', 'busybox', 'true']);
  assert.equal(stopped.code, 0, stopped.stderr);
  const e = await docker(daemon(), ['exec', 'idle', 'true']);
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /Container [0-9a-f]{64} is not running/);
  const api = await daemon().api('POST', '/containers/idle/exec', { Cmd: ['true'] });
  assert.equal(api.status, 409);
  const none = await daemon().api('GET', '/exec/0123456789abcdef/json');
  assert.equal(none.status, 404);
  assert.equal(none.json<{ message: string }>().message, 'No such exec instance: 0123456789abcdef');
  const empty = await daemon().api('POST', '/containers/web/exec', { Cmd: [] });
  assert.equal(empty.status, 400);
  await docker(daemon(), ['rm', 'idle']);
});

test('exec API: inspect before/after, detached start, events exec_create/exec_start/exec_die', async () => {
  await web();
  const since = Math.floor(Date.now() / 1000) - 1;
  const created = await daemon().api('POST', '/containers/web/exec', { Cmd: ['sh', '-c', 'sleep 0.3; exit 3'], AttachStdout: true });
  assert.equal(created.status, 201, created.body);
  const id = created.json<{ Id: string }>().Id;
  const before = (await daemon().api('GET', `/exec/${id}/json`)).json<Record<string, unknown>>();
  assert.equal(before.Running, false);
  assert.equal(before.ExitCode, null);
  assert.equal(before.Pid, 0);
  assert.equal(before.ContainerID, webId);
  assert.deepEqual(before.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'sleep 0.3; exit 3'], privileged: false });
  const start = await daemon().api('POST', `/exec/${id}/start`, { Detach: true, Tty: false });
  assert.equal(start.status, 200, start.body);
  assert.equal(start.body, '');
  const again = await daemon().api('POST', `/exec/${id}/start`, { Detach: true });
  assert.equal(again.status, 409);
  const execIds = (await daemon().api('GET', '/containers/web/json')).json<{ ExecIDs: string[] | null }>().ExecIDs;
  assert.ok(execIds?.includes(id), `ExecIDs ${JSON.stringify(execIds)} lists the running exec`);
  let info: Record<string, unknown> = {};
  for (let i = 0; i < 200; i++) {
    info = (await daemon().api('GET', `/exec/${id}/json`)).json<Record<string, unknown>>();
    if (info.ExitCode !== null) break;
    assert.equal(info.Running, true);
    assert.ok((info.Pid as number) > 0);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(info.ExitCode, 3);
  assert.equal(info.Running, false);
  const until = Math.ceil(Date.now() / 1000) + 1;
  const ev = await daemon().api('GET', `/events?since=${since}&until=${until}`);
  const actions = ev.body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: Record<string, string> } })
    .filter((e) => e.Actor.Attributes.execID === id);
  assert.deepEqual(
    actions.map((e) => e.Action),
    ['exec_create: sh -c sleep 0.3; exit 3', 'exec_start: sh -c sleep 0.3; exit 3', 'exec_die'],
  );
  assert.equal(actions[2].Actor.Attributes.exitCode, '3');
  assert.equal(actions[2].Actor.Attributes.name, 'web');
});

test('docker exec -d runs in the background', async () => {
  await web();
  const r = await docker(daemon(), ['exec', '-d', 'web', 'sh', '-c', 'echo bg > /tmp/bg']);
  assert.equal(r.code, 0, r.stderr);
  let out = '';
  for (let i = 0; i < 100 && out !== 'bg\n'; i++) {
    out = (await docker(daemon(), ['exec', 'web', 'cat', '/tmp/bg'])).stdout;
    if (out !== 'bg\n') await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(out, 'bg\n');
});

test('berth exec: output, exit code, -i, -e, -u', async () => {
  await web();
  const r = await berth(daemon(), ['exec', 'web', 'sh', '-c', 'echo $HOSTNAME; exit 5']);
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stdout, `${webId.slice(0, 12)}\n`);
  const piped = await berth(daemon(), ['exec', '-i', '-e', 'X=1', '-u', 'nobody', 'web', 'sh', '-c', 'cat; echo $X $(id -u)'], { input: 'in\n' });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, 'in\n1 65534\n');
  const missing = await berth(daemon(), ['exec', 'nosuch', 'true']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nosuch/);
});

for (const cli of ['docker', 'berth'] as const) {
  test(`${cli} exec -it in a pseudo-terminal: stty size sees the size given, then a resize`, async () => {
  await web();
    const argv = cli === 'docker' ? ['docker', 'exec', '-it', 'web', 'sh'] : [NODE, BERTH, 'exec', '-it', 'web', 'sh'];
    const r = await runInPty(
      argv,
      [24, 80],
      [
        // Type only at the prompt: the shell's line editor drops input typed ahead of it.
        { waitfor: '# ' },
        { write: 'stty size\r' },
        { waitfor: '24 80' },
        // The CLI sends the new size on SIGWINCH, once it watches for it (after its first resize
        // request): resize again until the shell sees a new size.
        ...Array.from({ length: 20 }, (_v, i): PtyStep[] => [{ resize: [30, 100 + (i % 2)] }, { write: 'stty size\r' }, { waitfor: '30 10[01]', timeout: 1 }]).flat(),
        { write: 'exit 7\r' },
        { end: true },
      ],
      daemon().env(),
    );
    assert.equal(r.matched[0], true, r.output);
    assert.equal(r.matched[1], true, r.output);
    assert.ok(r.matched.slice(2).some(Boolean), r.output);
    assert.equal(r.exit, 7, r.output);
  });
}

test('docker exec -it: ctrl-p ctrl-q detaches and the exec keeps running (ExecIDs)', async () => {
  await web();
  const before = (await daemon().api('GET', '/containers/web/json')).json<{ ExecIDs: string[] | null }>().ExecIDs ?? [];
  const r = await runInPty(['docker', 'exec', '-it', 'web', 'sh'], [24, 80], [{ waitfor: '# ' }, { write: '\x10\x11' }, { end: true }], daemon().env());
  assert.equal(r.matched[0], true, r.output);
  assert.match(r.output, /read escape sequence/);
  const after = (await daemon().api('GET', '/containers/web/json')).json<{ ExecIDs: string[] | null }>().ExecIDs ?? [];
  assert.equal(after.length, before.length + 1, JSON.stringify({ before, after }));
  const id = after.find((x) => !before.includes(x))!;
  const info = (await daemon().api('GET', `/exec/${id}/json`)).json<{ Running: boolean; ProcessConfig: { tty: boolean } }>();
  assert.equal(info.Running, true);
  assert.equal(info.ProcessConfig.tty, true);
});
