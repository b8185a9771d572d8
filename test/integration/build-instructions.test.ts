// Every Dockerfile instruction, variable substitution, heredocs, ADD (tar, URL on loopback),
// RUN limits and network modes, through the real docker CLI and berth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { useDaemon, docker, berth, leakedMounts } from '../helpers/daemon.ts';

const daemon = useDaemon();
const work = mkdtempSync(join(tmpdir(), 'berth-build-ins-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const LONG = { timeoutMs: 240_000 };

function context(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

async function inspect(ref: string, format: string): Promise<string> {
  const r = await docker(daemon(), ['image', 'inspect', '--format', format, ref]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

test('metadata instructions: LABEL, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, MAINTAINER, ONBUILD, ARG with defaults', async () => {
  const dir = context('meta', {
    Dockerfile: `ARG BASE=busybox
ARG VERSION=1.0
FROM --platform=$BUILDPLATFORM \${BASE}
ARG VERSION
ARG EMPTY
ARG FLAVOR=plain
ARG TARGETARCH
MAINTAINER someone@example.com
LABEL version=$VERSION "with space"="a b" alt=\${EMPTY:-fallback} plus=\${FLAVOR:+has-flavor} arch=$TARGETARCH
EXPOSE 8080 53/udp 9000-9001
VOLUME ["/data", "/cache"]
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD test -f /tmp/ok || exit 1
SHELL ["/bin/sh", "-e", "-c"]
RUN echo "shell args: $0 $-" > /shell.txt
ONBUILD RUN echo triggered > /onbuild.txt
`,
  });
  const r = await docker(daemon(), ['build', '--build-arg', 'FLAVOR=spicy', '-t', 'meta:v1', dir], LONG);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(await inspect('meta:v1', '{{json .Config.Labels}}'), '{"alt":"fallback","arch":"amd64","plus":"has-flavor","version":"1.0","with space":"a b"}');
  assert.equal(await inspect('meta:v1', '{{json .Config.ExposedPorts}}'), '{"53/udp":{},"8080/tcp":{},"9000/tcp":{},"9001/tcp":{}}');
  assert.equal(await inspect('meta:v1', '{{json .Config.Volumes}}'), '{"/cache":{},"/data":{}}');
  assert.equal(await inspect('meta:v1', '{{.Config.StopSignal}} {{.Author}}'), 'SIGUSR1 someone@example.com');
  assert.equal(await inspect('meta:v1', '{{json .Config.Healthcheck}}'), '{"Test":["CMD-SHELL","test -f /tmp/ok || exit 1"],"Interval":5000000000,"Timeout":2000000000,"Retries":4}');
  assert.equal(await inspect('meta:v1', '{{json .Config.OnBuild}}'), '["RUN echo triggered > /onbuild.txt"]');
  const shell = await docker(daemon(), ['run', '--rm', 'meta:v1', 'cat', '/shell.txt']);
  assert.match(shell.stdout, /^shell args: \/bin\/sh .*e/);

  // A child image runs the ONBUILD trigger right after its FROM.
  const child = context('child', { Dockerfile: 'FROM meta:v1\nRUN cat /onbuild.txt\n' });
  const c = await berth(daemon(), ['build', '-t', 'meta:child', child], LONG);
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assert.match(c.stdout, /# Executing 1 build trigger/);
  assert.equal((await docker(daemon(), ['run', '--rm', 'meta:child', 'cat', '/onbuild.txt'])).stdout, 'triggered\n');
  assert.equal(await inspect('meta:child', '{{json .Config.OnBuild}}'), 'null');
});

test('build args: unconsumed ones are reported; a changed value invalidates the RUN that sees it', async () => {
  const dir = context('args', { Dockerfile: 'FROM busybox\nARG MODE=dev\nRUN echo mode=$MODE > /mode\n' });
  const a = await docker(daemon(), ['build', '--build-arg', 'MODE=prod', '--build-arg', 'UNUSED=1', '-t', 'args:v1', dir], LONG);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /\[Warning\] One or more build-args \[UNUSED\] were not consumed/);
  assert.equal((await docker(daemon(), ['run', '--rm', 'args:v1', 'cat', '/mode'])).stdout, 'mode=prod\n');
  const b = await docker(daemon(), ['build', '--build-arg', 'MODE=test', '-t', 'args:v2', dir], LONG);
  assert.match(b.stdout, /Step 3\/3 : RUN echo mode=\$MODE > \/mode\n ---> Running in/);
  const history = await docker(daemon(), ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'args:v2']);
  assert.match(history.stdout, /^\|1 MODE=test \/bin\/sh -c echo mode=\$MODE > \/mode$/m);
});

test('COPY: wildcards, directories, --chown by name, heredocs; ADD: local tar extraction and a URL on loopback', async () => {
  const dir = context('copy', {
    'src/a.txt': 'A\n',
    'src/b.txt': 'B\n',
    'src/c.md': 'C\n',
    'tree/sub/deep.txt': 'deep\n',
    Dockerfile: '',
  });
  execFileSync('tar', ['-czf', join(dir, 'bundle.tar.gz'), '-C', join(dir, 'tree'), '.']);
  const files = new Map([['/remote.txt', 'from the network\n']]);
  const server: Server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM busybox
ENV TARGET=/opt/app
COPY src/*.txt $TARGET/
COPY tree /opt/tree
COPY --chown=nobody:nobody src/c.md /opt/owned.md
ADD bundle.tar.gz /opt/unpacked/
ADD --checksum=sha256:bff1aa88234c9ade03d9011528148a4ae21982185c0b4b3cdbb3b3af051792ea http://127.0.0.1:${port}/remote.txt /opt/remote.txt
COPY <<EOF /opt/heredoc.txt
target is \${TARGET}
EOF
RUN <<EOF
echo from a heredoc script > /opt/script.txt
echo second line >> /opt/script.txt
EOF
CMD ["sh", "-c", "cd /opt && find . -type f | sort && cat app/a.txt heredoc.txt script.txt remote.txt unpacked/sub/deep.txt && stat -c '%U:%G' owned.md && stat -c '%a %Y' remote.txt"]
`,
    );
    const r = await docker(daemon(), ['build', '-t', 'copy:v1', dir], LONG);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const run = await docker(daemon(), ['run', '--rm', 'copy:v1']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        './app/a.txt',
        './app/b.txt',
        './heredoc.txt',
        './owned.md',
        './remote.txt',
        './script.txt',
        './tree/sub/deep.txt',
        './unpacked/sub/deep.txt',
        'A',
        'target is /opt/app',
        'from a heredoc script',
        'second line',
        'from the network',
        'deep',
        'nobody:nobody',
        '600 1445412480',
        '',
      ].join('\n'),
    );
  } finally {
    server.close();
  }
});

test('RUN: --network none, memory limits from the build, USER and WORKDIR apply', async () => {
  const dir = context('runopts', {
    Dockerfile: `FROM busybox
RUN --network=none ls /sys/class/net > /nets
RUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes > /memlimit
WORKDIR /work/dir
USER nobody
RUN id -u > /tmp/uid && pwd > /tmp/pwd
`,
  });
  const r = await docker(daemon(), ['build', '-m', '64m', '-t', 'runopts:v1', dir], LONG);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = await docker(daemon(), ['run', '--rm', 'runopts:v1', 'cat', '/nets', '/memlimit', '/tmp/uid', '/tmp/pwd']);
  assert.equal(out.stdout, 'lo\n67108864\n65534\n/work/dir\n');
});

test('Dockerfile errors are reported before anything is built', async () => {
  const bad = context('bad', { Dockerfile: 'FROM busybox\nFROBNICATE now\n' });
  const r = await docker(daemon(), ['build', bad], LONG);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown instruction: FROBNICATE/);
  const missing = context('missing', { 'Dockerfile.other': 'FROM busybox\n' });
  const m = await docker(daemon(), ['build', missing], LONG);
  assert.notEqual(m.code, 0);
  assert.match(m.stderr, /Cannot locate specified Dockerfile|no such file/i);
  const noImage = context('noimage', { Dockerfile: 'FROM nosuchimage:1\n' });
  const n = await berth(daemon(), ['build', noImage], LONG);
  assert.notEqual(n.code, 0);
  assert.match(n.stderr, /nosuchimage/);
});

test('RUN --mount: a cache directory persists across builds; binds from the context and from a stage; tmpfs', async () => {
  const dir = context('mounts', {
    'data/input.txt': 'from the context\n',
    Dockerfile: `FROM busybox AS stage
RUN echo from the stage > /stage.txt
FROM busybox
RUN --mount=type=cache,target=/var/cache/app echo run >> /var/cache/app/log && wc -l < /var/cache/app/log > /runs
RUN --mount=type=bind,source=data,target=/in cat /in/input.txt > /copied && ! touch /in/x 2>/dev/null
RUN --mount=type=bind,from=stage,source=/stage.txt,target=/s.txt cat /s.txt > /from-stage
RUN --mount=type=tmpfs,target=/scratch touch /scratch/t && grep -q ' /scratch tmpfs' /proc/mounts && echo tmpfs > /tmpfs
`,
  });
  const a = await docker(daemon(), ['build', '-t', 'mounts:v1', dir], LONG);
  assert.equal(a.code, 0, a.stdout + a.stderr);
  const out = await docker(daemon(), ['run', '--rm', 'mounts:v1', 'cat', '/runs', '/copied', '/from-stage', '/tmpfs']);
  assert.equal(out.stdout, '1\nfrom the context\nfrom the stage\ntmpfs\n');
  const ls = await docker(daemon(), ['run', '--rm', 'mounts:v1', 'ls', '-A', '/var/cache/app']);
  assert.equal(ls.stdout, '', 'the cache mount is not part of the image');
  // A --no-cache build sees what the first one left in the cache mount.
  const b = await berth(daemon(), ['build', '--no-cache', '-t', 'mounts:v2', dir], LONG);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  assert.equal((await docker(daemon(), ['run', '--rm', 'mounts:v2', 'cat', '/runs'])).stdout, '2\n');
  // A change in the bound context directory invalidates the RUN that binds it.
  writeFileSync(join(dir, 'data/input.txt'), 'changed\n');
  const c = await docker(daemon(), ['build', '-t', 'mounts:v3', dir], LONG);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /Step 5\/7 : RUN --mount=type=bind,source=data,target=\/in[^\n]*\n ---> Running in/);
  assert.equal((await docker(daemon(), ['run', '--rm', 'mounts:v3', 'cat', '/copied'])).stdout, 'changed\n');
  // Nothing stays mounted.
  assert.deepEqual(leakedMounts(daemon().dir), []);
});
