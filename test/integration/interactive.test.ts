// Interactive use (issue 3): run -it / attach through a real pseudo-terminal, resize, detach keys,
// piped stdin without a TTY. The real docker CLI and berth against a real berthd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDaemon, docker, berth, NODE, BERTH, type TestDaemon } from '../helpers/daemon.ts';
import { runInPty, type PtyStep } from '../helpers/pty.ts';

const daemon = useDaemon();

async function running(d: TestDaemon, name: string): Promise<boolean> {
  const r = await docker(d, ['inspect', '-f', '{{.State.Running}}', name]);
  return r.stdout.trim() === 'true';
}

/** Size check at the prompt, a resize seen by the shell, then the detach keys. */
function sizeThenResizeThenDetach(first: string): PtyStep[] {
  return [
    { waitfor: '# ' },
    { write: 'stty size\r' },
    { waitfor: first },
    // Resize again until the shell sees it: the CLI watches SIGWINCH only after its first resize.
    ...Array.from({ length: 20 }, (_v, i): PtyStep[] => [{ resize: [30, 100 + (i % 2)] }, { write: 'stty size\r' }, { waitfor: '30 10[01]', timeout: 1 }]).flat(),
    { write: '\x10\x11' },
    { end: true },
  ];
}

for (const cli of ['docker', 'berth'] as const) {
  test(`${cli} run -it: the terminal's size, a resize, ctrl-p ctrl-q detaches and the container keeps running`, async () => {
    const name = `it-${cli}`;
    const argv = cli === 'docker' ? ['docker', 'run', '-it', '--name', name, 'busybox', 'sh'] : [NODE, BERTH, 'run', '-it', '--name', name, 'busybox', 'sh'];
    const r = await runInPty(argv, [24, 80], sizeThenResizeThenDetach('24 80'), daemon().env());
    assert.equal(r.matched[0], true, `no prompt: ${r.output}`);
    assert.equal(r.matched[1], true, `no 24 80: ${r.output}`);
    assert.ok(r.matched.slice(2).some(Boolean), `no resize seen: ${r.output}`);
    assert.equal(r.exit, 0, r.output);
    assert.equal(await running(daemon(), name), true, 'the container still runs after detaching');

    // attach again (with the other CLI too): the shell still reads its terminal
    for (const again of ['docker', 'berth'] as const) {
      const a = again === 'docker' ? ['docker', 'attach', name] : [NODE, BERTH, 'attach', name];
      const steps: PtyStep[] = [{ write: '\r' }, { waitfor: '# ' }, { write: 'echo attached-$((6*7))\r' }, { waitfor: 'attached-42' }, { write: '\x10\x11' }, { end: true }];
      const at = await runInPty(a, [24, 80], steps, daemon().env());
      assert.deepEqual(at.matched, [true, true], at.output);
      assert.match(at.output, /read escape sequence/);
      assert.equal(at.exit, 1, at.output);
      assert.equal(await running(daemon(), name), true);
    }

    // exit in an attached session ends the container with that code
    const last = await runInPty(cli === 'docker' ? ['docker', 'attach', name] : [NODE, BERTH, 'attach', name], [24, 80], [{ write: '\r' }, { waitfor: '# ' }, { write: 'exit 3\r' }, { end: true }], daemon().env());
    assert.equal(last.exit, 3, last.output);
    assert.equal(await running(daemon(), name), false);
    await docker(daemon(), ['rm', name]);
  });
}

test('run -it --detach-keys: a custom sequence detaches', async () => {
  const r = await runInPty(['docker', 'run', '-it', '--detach-keys', 'ctrl-a,x', '--name', 'dk', 'busybox', 'sh'], [24, 80], [{ waitfor: '# ' }, { write: '\x01x' }, { end: true }], daemon().env());
  assert.equal(r.matched[0], true, r.output);
  assert.equal(r.exit, 0, r.output);
  assert.equal(await running(daemon(), 'dk'), true);
  await docker(daemon(), ['rm', '-f', 'dk']);
});

test('piped stdin without a TTY: echo hi | run -i busybox cat (docker and berth)', async () => {
  const d = await docker(daemon(), ['run', '--rm', '-i', 'busybox', 'cat'], { input: 'hi\n' });
  assert.equal(d.code, 0, d.stderr);
  assert.equal(d.stdout, 'hi\n');
  const b = await berth(daemon(), ['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo end'], { input: 'hi\n' });
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout, 'hi\nend\n');
});

test('POST /containers/{id}/resize: 200 on a running TTY container, 409 when stopped, 404 when unknown', async () => {
  const c = await docker(daemon(), ['run', '-d', '-t', '--name', 'rz', 'busybox', 'sleep', '1000']);
  assert.equal(c.code, 0, c.stderr);
  const ok = await daemon().api('POST', '/containers/rz/resize?h=40&w=120');
  assert.equal(ok.status, 200, ok.body);
  let size = '';
  for (let i = 0; i < 50 && size !== '40 120'; i++) {
    size = (await docker(daemon(), ['exec', 'rz', 'sh', '-c', 'stty size < /proc/1/fd/0'])).stdout.trim();
    if (size !== '40 120') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(size, '40 120');
  await docker(daemon(), ['kill', 'rz']);
  for (let i = 0; i < 100 && (await running(daemon(), 'rz')); i++) await new Promise((r) => setTimeout(r, 50));
  const stopped = await daemon().api('POST', '/containers/rz/resize?h=40&w=120');
  assert.equal(stopped.status, 409);
  assert.equal((await daemon().api('POST', '/containers/nosuch/resize?h=1&w=1')).status, 404);
  await docker(daemon(), ['rm', 'rz']);
});
