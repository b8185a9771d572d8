// Issue 4 acceptance: the classic builder through the real docker CLI and berth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { useDaemon, docker, berth, runCli, NODE, BERTH, leakedMounts, listDir, type ApiResponse, type TestDaemon } from '../helpers/daemon.ts';

const daemon = useDaemon();
const work = mkdtempSync(join(tmpdir(), 'berth-build-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const LONG = { timeoutMs: 240_000 };

function context(name: string, files: Record<string, string | { data: string; mode: number }>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    if (typeof content === 'string') writeFileSync(path, content);
    else {
      writeFileSync(path, content.data);
      chmodSync(path, content.mode);
    }
  }
  return dir;
}

/** The 10-step Dockerfile: every instruction leaves a visible effect in the image. */
const TEN_STEPS = `FROM busybox
ENV GREETING=hello APP_HOME=/app
WORKDIR $APP_HOME
RUN mkdir -p data && echo built > data/marker
RUN echo "step five" > five.txt
COPY conf/settings.txt ./settings.txt
COPY --chmod=755 bin/tool.sh /usr/local/bin/tool
USER nobody
ENTRYPOINT ["sh", "-c"]
`;
// 10 steps with the CMD: FROM + 9.
const TEN = TEN_STEPS + 'CMD ["echo $GREETING; pwd; id -u; cat data/marker five.txt settings.txt; stat -c %a /usr/local/bin/tool; tool"]\n';

function tenStepContext(name: string): string {
  return context(name, {
    Dockerfile: TEN,
    'conf/settings.txt': 'setting=1\n',
    'bin/tool.sh': { data: '#!/bin/sh\necho tool ran\n', mode: 0o600 },
  });
}

const stepsUsingCache = (out: string): number[] => {
  const hits: number[] = [];
  let step = 0;
  for (const line of out.split('\n')) {
    const m = /^Step (\d+)\/\d+ :/.exec(line);
    if (m) step = Number(m[1]);
    if (line === ' ---> Using cache') hits.push(step);
  }
  return hits;
};
const builtId = (out: string): string => /Successfully built ([a-f0-9]{12})/.exec(out)?.[1] ?? '';

const EXPECTED_RUN = 'hello\n/app\n65534\nbuilt\nstep five\nsetting=1\n755\ntool ran\n';

test('a 10-step Dockerfile builds with the docker CLI; the image shows every step', async () => {
  const dir = tenStepContext('ten-docker');
  const r = await docker(daemon(), ['build', '-t', 'ten:docker', dir], LONG);
  assert.equal(r.code, 0, r.stdout + r.stderr + daemon().logs.slice(-3000));
  assert.match(r.stdout, /Step 1\/10 : FROM busybox/);
  assert.match(r.stdout, /Step 10\/10 : CMD/);
  assert.match(r.stdout, / ---> Running in [a-f0-9]{12}\n/);
  assert.match(r.stdout, /Successfully tagged ten:docker/);
  const run = await docker(daemon(), ['run', '--rm', 'ten:docker']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, EXPECTED_RUN);
  // No RUN container is left behind.
  assert.deepEqual((await daemon().api('GET', '/containers/json?all=1')).json(), []);
  const history = await docker(daemon(), ['history', '--format', '{{.CreatedBy}}', 'ten:docker']);
  assert.match(history.stdout, /echo "step five" > five.txt/);
  const inspect = await docker(daemon(), ['image', 'inspect', '--format', '{{json .Config.Entrypoint}} {{.Config.User}} {{len .RootFS.Layers}}', 'ten:docker']);
  assert.equal(inspect.stdout.trim(), '["sh","-c"] nobody 6');

  // The same with berth's CLI (a fresh context: no cache shared).
  const b = await berth(daemon(), ['build', '--no-cache', '-t', 'ten:berth', tenStepContext('ten-berth')], LONG);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  assert.match(b.stdout, /Step 10\/10 : CMD/);
  const brun = await berth(daemon(), ['run', '--rm', 'ten:berth']);
  assert.equal(brun.code, 0, brun.stderr);
  assert.equal(brun.stdout, EXPECTED_RUN);
});

test('rebuild without changes: every step is a cache hit and the ID is identical; touching step 6 input rebuilds 6-10', async () => {
  const dir = tenStepContext('ten-cache');
  const first = await docker(daemon(), ['build', '-t', 'ten:cache', dir], LONG);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  // The CLI's two classic-builder paths: by default (the daemon announces Builder-Version 1) and forced.
  const second = await runCli('docker', ['build', '-t', 'ten:cache', dir], { env: daemon().env({ DOCKER_BUILDKIT: '0' }), ...LONG });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(stepsUsingCache(second.stdout), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.doesNotMatch(second.stdout, /Running in/);
  assert.equal(builtId(second.stdout), builtId(first.stdout));

  appendFileSync(join(dir, 'conf/settings.txt'), 'setting=2\n');
  const third = await docker(daemon(), ['build', '-t', 'ten:cache', dir], LONG);
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(stepsUsingCache(third.stdout), [2, 3, 4, 5]);
  assert.notEqual(builtId(third.stdout), builtId(first.stdout));
  const run = await docker(daemon(), ['run', '--rm', 'ten:cache']);
  assert.match(run.stdout, /setting=1\nsetting=2\n/);
});

test('berth build: -t, -f, --build-arg, --label, -q, --iidfile; the cache survives a daemon restart', async () => {
  const dir = context('berth-cli', {
    'build/Custom.dockerfile': 'FROM busybox\nARG WHO=nobody\nENV WHO=$WHO\nCOPY note.txt /note.txt\nCMD ["sh", "-c", "echo $WHO; cat /note.txt"]\n',
    'note.txt': 'a note\n',
  });
  const iid = join(work, 'iid');
  const r = await berth(daemon(), ['build', '-t', 'bcli:1', '-t', 'bcli:2', '-f', join(dir, 'build/Custom.dockerfile'), '--build-arg', 'WHO=berth', '--label', 'team=ops', '--iidfile', iid, dir], LONG);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Successfully tagged bcli:1\nSuccessfully tagged bcli:2\n/);
  const id = (await import('node:fs')).readFileSync(iid, 'utf8');
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const run = await berth(daemon(), ['run', '--rm', 'bcli:2']);
  assert.equal(run.stdout, 'berth\na note\n');
  const label = await berth(daemon(), ['image', 'inspect', '--format', '{{index .Config.Labels "team"}}', 'bcli:1']);
  assert.equal(label.stdout.trim(), 'ops');

  await daemon().stop();
  await daemon().start();
  const q = await berth(daemon(), ['build', '-q', '-f', join(dir, 'build/Custom.dockerfile'), '--build-arg', 'WHO=berth', '--label', 'team=ops', dir], LONG);
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout.trim(), id, 'quiet prints only the ID, and it is the cached one');
});

test('berth build from stdin: a Dockerfile, and a context tar', async () => {
  const df = await berth(daemon(), ['build', '-t', 'stdin:df', '-'], { input: 'FROM busybox\nLABEL from=stdin\n', timeoutMs: 60_000 });
  assert.equal(df.code, 0, df.stdout + df.stderr);
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile' }, 'FROM busybox\nCOPY x /x\nCMD ["cat", "/x"]\n');
  pack.entry({ name: 'x' }, 'from a tar\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  const tarPath = join(work, 'ctx.tar');
  writeFileSync(tarPath, Buffer.concat(chunks));
  const fromTar = await berth(daemon(), ['build', '-t', 'stdin:tar', tarPath], LONG);
  assert.equal(fromTar.code, 0, fromTar.stdout + fromTar.stderr);
  assert.equal((await berth(daemon(), ['run', '--rm', 'stdin:tar'])).stdout, 'from a tar\n');
});

test('multi-stage: the final stage copies a binary from a builder stage; --target stops at a stage; unused stages are skipped', async () => {
  const dir = context('multi', {
    Dockerfile: `FROM busybox AS builder
RUN mkdir /out && cp /bin/busybox /out/busybox && echo built-in-builder > /out/stamp
FROM busybox AS unused
RUN exit 99
FROM scratch
COPY --from=builder /out/busybox /busybox
COPY --from=0 /out/stamp /stamp
ENTRYPOINT ["/busybox", "cat", "/stamp"]
`,
  });
  const r = await docker(daemon(), ['build', '-t', 'multi:final', dir], LONG);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /exit 99/, 'the unused stage is not built');
  const run = await docker(daemon(), ['run', '--rm', 'multi:final']);
  assert.equal(run.stdout, 'built-in-builder\n');
  const layers = await docker(daemon(), ['image', 'inspect', '--format', '{{len .RootFS.Layers}}', 'multi:final']);
  assert.equal(layers.stdout.trim(), '2', 'scratch + two COPY layers');

  const t = await berth(daemon(), ['build', '--target', 'builder', '-t', 'multi:builder', dir], LONG);
  assert.equal(t.code, 0, t.stdout + t.stderr);
  const out = await berth(daemon(), ['run', '--rm', 'multi:builder', 'cat', '/out/stamp']);
  assert.equal(out.stdout, 'built-in-builder\n');
  const bad = await docker(daemon(), ['build', '--target', 'nosuch', dir], LONG);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /failed to reach build target nosuch/);
});

test('independent stages: both are built, their output is shown in stage order', async () => {
  const dir = context('two-stages', {
    Dockerfile: `FROM busybox AS a
RUN sleep 1 && echo made-by-a > /a.txt
FROM busybox AS b
RUN echo made-by-b > /b.txt
FROM busybox
COPY --from=a /a.txt /a.txt
COPY --from=b /b.txt /b.txt
CMD ["cat", "/a.txt", "/b.txt"]
`,
  });
  const r = await berth(daemon(), ['build', '-t', 'stages:v1', dir], LONG);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const steps = [...r.stdout.matchAll(/^Step (\d+)\/8 :/gm)].map((m) => Number(m[1]));
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8], 'steps appear in order');
  const aDone = r.stdout.indexOf('Removing intermediate container');
  assert.ok(aDone > 0 && aDone < r.stdout.indexOf('Step 3/8'), "stage a's output comes before stage b's");
  assert.equal((await berth(daemon(), ['run', '--rm', 'stages:v1'])).stdout, 'made-by-a\nmade-by-b\n');
});

test('.dockerignore keeps a large directory out of the upload and out of the cache key', async () => {
  const dir = context('ignore', {
    Dockerfile: 'FROM busybox\nCOPY . /src/\nRUN ls -R /src > /listing\nCMD ["cat", "/listing"]\n',
    '.dockerignore': 'big\n*.log\n!keep.log\n',
    'app.txt': 'app\n',
    'debug.log': 'noise\n',
    'keep.log': 'kept\n',
  });
  mkdirSync(join(dir, 'big'));
  writeFileSync(join(dir, 'big/blob.bin'), Buffer.alloc(20 * 1024 * 1024, 7));
  const r = await docker(daemon(), ['build', '-t', 'ignore:v1', dir], LONG);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const sent = /Sending build context to Docker daemon\s+([\d.]+)([kMG]?B)/.exec(r.stdout + r.stderr);
  assert.ok(sent, 'the CLI reports the context size');
  assert.ok(sent[2] === 'kB' || sent[2] === 'B', `context is small: ${sent[0]}`);
  const listing = (await docker(daemon(), ['run', '--rm', 'ignore:v1'])).stdout;
  assert.match(listing, /app\.txt/);
  assert.match(listing, /keep\.log/);
  assert.doesNotMatch(listing, /debug\.log|big|blob/);

  writeFileSync(join(dir, 'big/other.bin'), 'changed');
  writeFileSync(join(dir, 'debug.log'), 'more noise\n');
  const again = await berth(daemon(), ['build', '-t', 'ignore:v1', dir], LONG);
  assert.equal(again.code, 0, again.stderr);
  const berthSent = /Sending build context to Docker daemon\s+([\d.]+)([kMG]?B)/.exec(again.stdout);
  assert.ok(berthSent && (berthSent[2] === 'kB' || berthSent[2] === 'B'), `berth's upload is small too: ${berthSent?.[0]}`);
  assert.deepEqual(stepsUsingCache(again.stdout), [2, 3, 4]);
});

async function images(d: TestDaemon): Promise<string[]> {
  return (await d.api('GET', '/images/json?all=1')).json<Array<{ Id: string }>>().map((i) => i.Id).sort();
}

test('a failing RUN reports the command and exit code and leaves no container, mount or image', async () => {
  const dir = context('fail', { Dockerfile: 'FROM busybox\nRUN echo about to fail && exit 42\nRUN echo never\n' });
  const before = await images(daemon());
  const snapshotsBefore = listDir(join(daemon().dataRoot, 'snapshots')).filter((n) => !n.startsWith('.')).length;
  const r = await docker(daemon(), ['build', dir], LONG);
  assert.equal(r.code, 42, r.stdout + r.stderr);
  assert.match(r.stdout, /about to fail/);
  assert.match(r.stderr, /The command '\/bin\/sh -c echo about to fail && exit 42' returned a non-zero code: 42/);
  assert.deepEqual((await daemon().api('GET', '/containers/json?all=1')).json(), []);
  assert.deepEqual(await images(daemon()), before);
  assert.deepEqual(leakedMounts(daemon().dir), []);
  assert.equal(listDir(join(daemon().dataRoot, 'snapshots')).filter((n) => !n.startsWith('.')).length, snapshotsBefore);
  assert.deepEqual(listDir(join(daemon().execRoot, 'containers')), []);
  assert.deepEqual(listDir(join(daemon().dataRoot, 'containers')), []);
  assert.deepEqual(listDir(join(daemon().dataRoot, 'builds')), []);
  const b = await berth(daemon(), ['build', dir], LONG);
  assert.equal(b.code, 42);
  assert.match(b.stderr, /returned a non-zero code: 42/);
});

test('a client that goes away cancels the build: the running RUN is killed and removed', async () => {
  const dir = context('cancel', { Dockerfile: 'FROM busybox\nRUN echo started && sleep 120\n' });
  const child = spawn('docker', ['build', dir], { env: daemon().env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/^started$/m.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(out, /^started$/m);
  assert.equal((await daemon().api('GET', '/containers/json')).json<unknown[]>().length, 1, 'the RUN container is running');
  child.kill('SIGKILL');
  let left: unknown[] = [];
  for (let i = 0; i < 300; i++) {
    left = (await daemon().api('GET', '/containers/json?all=1')).json<unknown[]>();
    if (left.length === 0 && listDir(join(daemon().dataRoot, 'builds')).length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(left, []);
  assert.deepEqual(listDir(join(daemon().dataRoot, 'builds')), []);
  assert.deepEqual(leakedMounts(daemon().dir), []);
});

test('berthd killed during a RUN: at the next start the step container, mounts and context are gone', async () => {
  const dir = context('crash', { Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=.,target=/ctx --mount=type=bind,from=busybox,source=/bin,target=/b echo started && sleep 120\n' });
  const child = spawn('docker', ['build', dir], { env: daemon().env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/^started$/m.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(out, /^started$/m);
  assert.ok(leakedMounts(daemon().dir).some((m) => m.includes('build-mounts')), 'the image view is mounted while the step runs');
  await daemon().kill9();
  child.kill('SIGKILL');
  await daemon().start();
  assert.deepEqual((await daemon().api('GET', '/containers/json?all=1')).json(), []);
  assert.deepEqual(listDir(join(daemon().dataRoot, 'builds')), []);
  assert.deepEqual(leakedMounts(daemon().dir), []);
});

function postBuild(d: TestDaemon, body: Buffer, query = ''): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'POST', path: `/build${query}`, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: <T>() => JSON.parse(text) as T }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function tarOf(entries: Array<{ header: Partial<tar.Header> & { name: string }; body?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry(e.header, e.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

test('a hostile context tar (../ paths, absolute symlinks) cannot write or read outside', async () => {
  const victim = mkdtempSync(join(tmpdir(), 'berth-victim-'));
  writeFileSync(join(victim, 'secret'), 'host secret\n');
  try {
    // 1. A `../` entry is refused before anything is built.
    const dotdot = await postBuild(daemon(), await tarOf([{ header: { name: 'Dockerfile' }, body: 'FROM busybox\n' }, { header: { name: `../../../../../../..${victim}/dotdot` }, body: 'x' }]));
    assert.equal(dotdot.status, 400, dotdot.body);
    assert.match(dotdot.body, /escapes the root/);
    assert.equal(existsSync(join(victim, 'dotdot')), false);

    // 2. An absolute symlink followed by an entry through it lands inside the context.
    const through = await postBuild(
      daemon(),
      await tarOf([
        { header: { name: 'Dockerfile' }, body: 'FROM busybox\nCOPY evil/planted /planted\nCMD ["cat", "/planted"]\n' },
        { header: { name: 'evil', type: 'symlink', linkname: victim } },
        { header: { name: 'evil/planted' }, body: 'inside\n' },
      ]),
      '?t=hostile:1',
    );
    assert.equal(through.status, 200, through.body);
    assert.doesNotMatch(through.body, /errorDetail/, through.body);
    assert.equal(existsSync(join(victim, 'planted')), false, 'nothing written on the host');
    assert.equal((await docker(daemon(), ['run', '--rm', 'hostile:1'])).stdout, 'inside\n');

    // 3. COPY of an absolute symlink to a host file reads inside the context, not the host.
    const read = await postBuild(
      daemon(),
      await tarOf([
        { header: { name: 'Dockerfile' }, body: 'FROM busybox\nCOPY link /copied\n' },
        { header: { name: 'link', type: 'symlink', linkname: join(victim, 'secret') } },
      ]),
    );
    assert.match(read.body, /errorDetail/);
    assert.match(read.body, /file not found in build context/);
    assert.doesNotMatch(read.body, /host secret/);
  } finally {
    rmSync(victim, { recursive: true, force: true });
  }
  assert.deepEqual(listDir(join(daemon().dataRoot, 'builds')), []);
});

test('SOURCE_DATE_EPOCH=0: two builds from scratch give the same image ID', async () => {
  const dir = context('repro', {
    Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo generated > /gen.txt && mkdir /d && touch /d/f\nENV X=1\n',
    'a.txt': 'a\n',
  });
  const one = await docker(daemon(), ['build', '--no-cache', '--build-arg', 'SOURCE_DATE_EPOCH=0', '-q', dir], LONG);
  assert.equal(one.code, 0, one.stderr);
  const prune = await docker(daemon(), ['builder', 'prune', '-f']);
  assert.equal(prune.code, 0, prune.stderr);
  // berth takes SOURCE_DATE_EPOCH from the environment, as buildx does.
  const two = await runCli(NODE, [BERTH, 'build', '--no-cache', '-q', dir], { env: daemon().env({ SOURCE_DATE_EPOCH: '0' }), ...LONG });
  assert.equal(two.code, 0, two.stderr);
  assert.match(one.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
  assert.equal(two.stdout.trim(), one.stdout.trim());
  const created = await docker(daemon(), ['image', 'inspect', '--format', '{{.Created}}', one.stdout.trim()]);
  assert.match(created.stdout, /^1970-01-01T00:00:00/);
});

test('--cache-from: a loaded image (no local steps, no cache rows) stands in for the steps it ran', async () => {
  const dir = tenStepContext('cache-from');
  const first = await docker(daemon(), ['build', '-t', 'cachefrom:v1', dir], LONG);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const tarPath = join(work, 'cachefrom.tar');
  assert.equal((await docker(daemon(), ['save', '-o', tarPath, 'cachefrom:v1'])).code, 0);
  assert.equal((await docker(daemon(), ['rmi', 'cachefrom:v1'])).code, 0);
  assert.equal((await docker(daemon(), ['builder', 'prune', '-f'])).code, 0);
  const load = await docker(daemon(), ['load', '-i', tarPath]);
  assert.equal(load.code, 0, load.stderr);

  const without = await docker(daemon(), ['build', '--no-cache', '-t', 'cachefrom:other', dir], LONG);
  assert.equal(without.code, 0);
  assert.deepEqual(stepsUsingCache(without.stdout), []);
  assert.equal((await docker(daemon(), ['builder', 'prune', '-f'])).code, 0);
  const withSource = await docker(daemon(), ['build', '--cache-from', 'cachefrom:v1', '-t', 'cachefrom:v2', dir], LONG);
  assert.equal(withSource.code, 0, withSource.stdout + withSource.stderr);
  assert.deepEqual(stepsUsingCache(withSource.stdout), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal((await docker(daemon(), ['run', '--rm', 'cachefrom:v2'])).stdout, EXPECTED_RUN);
  const layers = async (ref: string): Promise<string> => (await docker(daemon(), ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref])).stdout;
  assert.equal(await layers('cachefrom:v2'), await layers('cachefrom:v1'), 'the same layers');
});

test('build prune empties the cache: the next build runs every step', async () => {
  const dir = context('prune', { Dockerfile: 'FROM busybox\nRUN echo once > /once\n' });
  assert.equal((await docker(daemon(), ['build', '-t', 'prune:v1', dir], LONG)).code, 0);
  const df = (await daemon().api('GET', '/system/df')).json<{ BuildCache: unknown[] | null }>();
  assert.ok((df.BuildCache ?? []).length > 0, 'system df lists the build cache');
  const p = await daemon().api('POST', '/build/prune');
  assert.equal(p.status, 200, p.body);
  const after = (await daemon().api('GET', '/system/df')).json<{ BuildCache: unknown[] | null }>();
  assert.deepEqual(after.BuildCache ?? [], []);
  const again = await docker(daemon(), ['build', '-t', 'prune:v1', dir], LONG);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(stepsUsingCache(again.stdout), []);
  assert.match(again.stdout, /Running in/);
});
