// Log drivers (issue 3): json-file rotation (max-size/max-file) read across rotated files, the
// none driver, daemon-wide defaults, logs --details, and 100 MB of logs through berthd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { TestDaemon, docker, berth, runCli } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => {
  // A daemon-wide default option for json-file: every container's log carries the `team` label.
  await d.start({}, ['--log-opt', 'labels=team']);
  await d.importBusybox();
});
after(async () => {
  await d.cleanup();
});

interface Inspect {
  LogPath: string;
  State: { Status: string };
  HostConfig: { LogConfig: { Type: string; Config: Record<string, string> } };
}

async function inspect(name: string): Promise<Inspect> {
  const r = await d.api('GET', `/containers/${name}/json`);
  assert.equal(r.status, 200, r.body);
  return r.json<Inspect>();
}

async function until<T>(what: string, get: () => Promise<T> | T, pred: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await get();
  while (!pred(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${d.logs.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
    v = await get();
  }
  return v;
}

/** `line N` numbers of the output; asserts they are consecutive. */
function lineNumbers(out: string): number[] {
  const nums = out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^line (\d+) x+$/.exec(l);
      assert.ok(m, `unexpected log line: ${JSON.stringify(l)}`);
      return Number(m[1]);
    });
  for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1] + 1, `lines are not contiguous at ${nums[i - 1]} → ${nums[i]}`);
  return nums;
}

const PAD = 'x'.repeat(300);
// Writes `line 1 xxx…`, `line 2 xxx…`, … (one every 20 ms), forever or up to $1 lines.
const writer = (max: number) => `i=0; while [ ${max} -eq 0 ] || [ $i -lt ${max} ]; do i=$((i+1)); echo "line $i ${PAD}"; sleep 0.02; done`;

test('json-file rotation: logs spans the rotated files, files beyond max-file are dropped', async () => {
  const run = await docker(d, ['run', '-d', '--name', 'rot', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', writer(0)]);
  assert.equal(run.code, 0, run.stderr);
  const info = await inspect('rot');
  assert.deepEqual(info.HostConfig.LogConfig, { Type: 'json-file', Config: { labels: 'team', 'max-file': '3', 'max-size': '2k' } });
  const path = info.LogPath;
  // Rotated at least three times: `.2` exists and the first lines are gone.
  await until('rotations', () => docker(d, ['logs', 'rot']), (r) => existsSync(`${path}.2`) && r.stdout !== '' && !r.stdout.startsWith(`line 1 `));
  assert.equal((await docker(d, ['kill', 'rot'])).code, 0);
  await until('exit', () => inspect('rot'), (s) => s.State.Status === 'exited');

  // The live file itself may be missing: a rotation renamed it and the kill came before conmon reopened.
  assert.ok(existsSync(`${path}.1`) && existsSync(`${path}.2`));
  assert.ok(!existsSync(`${path}.3`), 'max-file=3 keeps three files');
  const logs = await docker(d, ['logs', 'rot']);
  assert.equal(logs.code, 0, logs.stderr);
  const nums = lineNumbers(logs.stdout);
  assert.ok(nums[0] > 1, 'the oldest lines were dropped');
  const inCurrent = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;
  assert.ok(nums.length > inCurrent, `logs read the rotated files too (${nums.length} lines, ${inCurrent} in the live file)`);
  // --tail counts across files.
  const tailN = inCurrent + 3;
  const tail = await docker(d, ['logs', '--tail', String(tailN), 'rot']);
  assert.deepEqual(lineNumbers(tail.stdout), nums.slice(-tailN));
  assert.equal((await docker(d, ['rm', 'rot'])).code, 0);
  assert.ok(!existsSync(path) && !existsSync(`${path}.1`), 'rm removes the log files');
});

test('logs -f follows the log across rotations without losing a line', async () => {
  const run = await docker(d, ['run', '-d', '--name', 'follow', '--log-opt', 'max-size=3k', '--log-opt', 'max-file=100', 'busybox', 'sh', '-c', `sleep 1; ${writer(120)}`]);
  assert.equal(run.code, 0, run.stderr);
  const f = await docker(d, ['logs', '-f', 'follow'], { timeoutMs: 120_000 });
  assert.equal(f.code, 0, f.stderr);
  const nums = lineNumbers(f.stdout);
  assert.equal(nums[0], 1);
  assert.equal(nums.at(-1), 120);
  assert.ok(existsSync(`${(await inspect('follow')).LogPath}.2`), 'the log was rotated meanwhile');
  assert.equal((await docker(d, ['rm', 'follow'])).code, 0);
});

test('--log-driver none: attach still prints, docker logs fails as with dockerd', async () => {
  const run = await docker(d, ['run', '--name', 'nolog', '--log-driver', 'none', 'busybox', 'echo', 'hi']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'hi\n');
  const info = await inspect('nolog');
  assert.deepEqual(info.HostConfig.LogConfig, { Type: 'none', Config: {} });
  assert.equal(info.LogPath, '');
  const logs = await docker(d, ['logs', 'nolog']);
  assert.equal(logs.code, 1);
  assert.match(logs.stderr, /configured logging driver does not support reading/);
  const api = await d.api('GET', '/containers/nolog/logs?stdout=1');
  assert.equal(api.status, 501);
  // The same through berth.
  const b = await berth(d, ['run', '--name', 'nolog2', '--log-driver', 'none', '--log-opt', 'x=y', 'busybox', 'true']);
  assert.equal(b.code, 125);
  assert.match(b.stderr, /invalid logging opts for driver none/);
  const b2 = await berth(d, ['run', '--name', 'nolog2', '--log-driver', 'none', 'busybox', 'echo', 'hi']);
  assert.equal(b2.stdout, 'hi\n', b2.stderr);
  const bl = await berth(d, ['logs', 'nolog2']);
  assert.equal(bl.code, 1);
  assert.match(bl.stderr, /configured logging driver does not support reading/);
  assert.equal((await docker(d, ['rm', 'nolog', 'nolog2'])).code, 0);
});

test('bad log options fail the create with dockerd texts, leaving nothing', async () => {
  const before = (await docker(d, ['ps', '-aq'])).stdout;
  const unknown = await docker(d, ['run', '--rm', '--log-opt', 'foo=bar', 'busybox', 'true']);
  assert.equal(unknown.code, 125);
  assert.match(unknown.stderr, /unknown log opt 'foo' for json-file log driver/);
  const driver = await docker(d, ['create', '--log-driver', 'bogus', 'busybox', 'true']);
  assert.notEqual(driver.code, 0);
  assert.match(driver.stderr, /logger: no log driver named 'bogus' is registered/);
  const size = await docker(d, ['create', '--log-opt', 'max-size=-1', 'busybox', 'true']);
  assert.notEqual(size.code, 0);
  assert.match(size.stderr, /invalid size: '-1'/);
  assert.equal((await docker(d, ['ps', '-aq'])).stdout, before);
});

test('daemon-wide log options and logs --details', async () => {
  const run = await docker(d, ['run', '--name', 'det', '--label', 'team=blue green', '-e', 'APP=web', '--log-opt', 'env=APP', 'busybox', 'sh', '-c', 'echo one; echo two >&2']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual((await inspect('det')).HostConfig.LogConfig, { Type: 'json-file', Config: { env: 'APP', labels: 'team' } });
  const det = await docker(d, ['logs', '--details', 'det']);
  assert.equal(det.code, 0, det.stderr);
  assert.equal(det.stdout, 'APP=web,team=blue+green one\n');
  assert.equal(det.stderr, 'APP=web,team=blue+green two\n');
  // Without attributes dockerd still prints the separating space.
  const plain = await docker(d, ['run', '--name', 'det2', 'busybox', 'echo', 'x']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal((await docker(d, ['logs', '--details', 'det2'])).stdout, ' x\n');
  const info = await docker(d, ['info', '--format', '{{.LoggingDriver}}']);
  assert.equal(info.stdout.trim(), 'json-file');
  assert.equal((await docker(d, ['rm', 'det', 'det2'])).code, 0);
});

/** Peak resident memory of a process (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

test('100 MB of logs: written and read back without growing berthd', async () => {
  const pid = d.proc!.pid!;
  const before = peakRss(pid);
  // ~100,000 lines of 1,000 bytes.
  const run = await docker(d, ['run', '-d', '--name', 'big', 'busybox', 'sh', '-c', "head -c 100000000 /dev/zero | tr '\\0' x | fold -w 999"]);
  assert.equal(run.code, 0, run.stderr);
  const wait = await docker(d, ['wait', 'big'], { timeoutMs: 300_000 });
  assert.equal(wait.stdout.trim(), '0', wait.stderr);
  // Read back through berthd (the CLI's pipe applies backpressure all the way to the file reader).
  const logs = await runCli('sh', ['-c', 'docker logs big | wc -c'], { env: d.env(), timeoutMs: 300_000 });
  assert.equal(logs.code, 0, logs.stderr);
  const bytes = Number(logs.stdout.trim());
  assert.ok(bytes >= 100_000_000 && bytes <= 100_200_000, `read ${bytes} bytes`);
  const grown = peakRss(pid) - before;
  assert.ok(grown < 40 * 1024 * 1024, `berthd's peak RSS grew by ${Math.round(grown / 1048576)} MB`);
  assert.equal((await docker(d, ['rm', 'big'])).code, 0);
});
