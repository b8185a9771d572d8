import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { main } from '../../../src/cli/main.ts';
import type { CliIO } from '../../../src/cli/context.ts';
import { FakeDaemon, frame, sendError, sendJson, upgrade } from '../client/fake-daemon.ts';

const ID = 'a254f82a18db763829e3b23d80d3fe4d1f99b12d4a937466b8ed2f36005c7c03';

interface Captured {
  io: CliIO;
  stdout: () => string;
  stderr: () => string;
}

function captureIO(env: NodeJS.ProcessEnv, stdinText = ''): Captured {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const stdin = new PassThrough();
  stdin.end(stdinText);
  return {
    io: { stdout, stderr, stdin, env },
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => Buffer.concat(err).toString(),
  };
}

async function berth(daemon: FakeDaemon, args: string[], stdinText?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const cap = captureIO({ BERTH_HOST: daemon.host }, stdinText);
  const code = await main(args, { io: cap.io });
  return { code, stdout: cap.stdout(), stderr: cap.stderr() };
}

async function withDaemon(fn: (d: FakeDaemon) => Promise<void>): Promise<void> {
  const daemon = await new FakeDaemon().listen();
  try {
    await fn(daemon);
  } finally {
    await daemon.close();
  }
}

/** A daemon that runs one container: output on attach, exit code at wait, after start. */
function serveRun(daemon: FakeDaemon, exitCode: number): void {
  let finish: (() => void) | undefined;
  let attached: ((stdin: string) => void) | undefined;
  daemon.on('POST /containers/create', (_req, res) => sendJson(res, 201, { Id: ID, Warnings: [] }));
  daemon.onUpgrade(`POST /containers/${ID}/attach`, ({ socket }) => {
    upgrade(socket);
    let stdin = '';
    socket.on('data', (c: Buffer) => (stdin += c.toString()));
    socket.on('end', () => void 0);
    attached = () => {
      socket.write(frame(1, `out:${stdin}`));
      socket.write(frame(2, 'err\n'));
      socket.end();
    };
  });
  daemon.on(`POST /containers/${ID}/wait`, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    finish = () => res.end(JSON.stringify({ Error: null, StatusCode: exitCode }) + '\n');
  });
  daemon.on(`POST /containers/${ID}/start`, (_req, res) => {
    res.statusCode = 204;
    res.end();
    // the process runs, writes, exits
    setTimeout(() => {
      attached?.('');
      setTimeout(() => finish?.(), 5);
    }, 5);
  });
}

test('run: flags after IMAGE belong to the command; sizes and cpus are converted', async () => {
  await withDaemon(async (daemon) => {
    serveRun(daemon, 0);
    const r = await berth(daemon, ['run', '--rm', '-m', '64m', '--cpus', '0.5', '-e', 'A=1', '-l', 'k=v', '--name', 'web', '--network', 'none', 'busybox', 'sh', '-c', 'x', '--rm', '-m']);
    assert.equal(r.code, 0, r.stderr);
    const create = daemon.requests.find((q) => q.path === '/containers/create')!;
    const body = JSON.parse(create.body);
    assert.deepEqual(body.Cmd, ['sh', '-c', 'x', '--rm', '-m']);
    assert.equal(body.Image, 'busybox');
    assert.equal(body.HostConfig.Memory, 67108864);
    assert.equal(body.HostConfig.NanoCpus, 500000000);
    assert.equal(body.HostConfig.AutoRemove, true);
    assert.equal(body.HostConfig.NetworkMode, 'none');
    assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: {} });
    assert.deepEqual(body.Env, ['A=1']);
    assert.deepEqual(body.Labels, { k: 'v' });
    assert.equal(create.query.get('name'), 'web');
    // attach and wait (sent in parallel, either order) are in place before start; --rm waits for removal
    const calls = daemon.calls().map((c) => c.split('?')[0]);
    assert.deepEqual(
      [calls[0], ...calls.slice(1, 3).sort(), calls[3], calls.length],
      ['POST /containers/create', `POST /containers/${ID}/attach`, `POST /containers/${ID}/wait`, `POST /containers/${ID}/start`, 4],
    );
    assert.ok(daemon.calls().find((c) => c.includes('/wait'))!.endsWith('condition=removed'));
    assert.equal(r.stdout, 'out:');
    assert.equal(r.stderr, 'err\n');
  });
});

test('run: exits with the container status; -i forwards stdin and half-closes', async () => {
  await withDaemon(async (daemon) => {
    serveRun(daemon, 3);
    const r = await berth(daemon, ['run', '-i', 'busybox', 'cat'], 'hello\n');
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out:hello\n');
    assert.ok(daemon.calls().find((c) => c.includes('/wait'))!.endsWith('condition=next-exit'));
    const attach = daemon.requests.find((q) => q.path.endsWith('/attach'))!;
    assert.equal(attach.query.get('stdin'), '1');
  });
});

test('run: invalid memory exits 125 before any request', async () => {
  await withDaemon(async (daemon) => {
    const r = await berth(daemon, ['run', '-m', 'foo', 'busybox']);
    assert.equal(r.code, 125);
    assert.equal(
      r.stderr,
      `invalid argument "foo" for "-m, --memory" flag: invalid size: 'foo'\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n`,
    );
    assert.equal(daemon.requests.length, 0);
    const cpus = await berth(daemon, ['run', '--cpus', 'abc', 'busybox']);
    assert.equal(cpus.code, 125);
    assert.match(cpus.stderr, /failed to parse abc as a rational number/);
  });
});

test('run: daemon errors exit 125 with docker wording; missing image pulls first', async () => {
  await withDaemon(async (daemon) => {
    daemon.on('POST /containers/create', (_req, res) => sendError(res, 404, 'No such image: nope:latest'));
    daemon.on('POST /images/create', (req, res) => {
      assert.equal(req.query.get('fromImage'), 'docker.io/library/nope');
      assert.equal(req.query.get('tag'), 'latest');
      sendError(res, 404, "pull access denied for nope, repository does not exist or may require 'docker login'");
    });
    const r = await berth(daemon, ['run', 'nope']);
    assert.equal(r.code, 125);
    assert.equal(
      r.stderr,
      "Unable to find image 'nope:latest' locally\nberth: Error response from daemon: pull access denied for nope, repository does not exist or may require 'docker login'\n\nRun 'berth run --help' for more information\n",
    );
  });
});

test('run -d prints the full ID and does not attach', async () => {
  await withDaemon(async (daemon) => {
    daemon.on('POST /containers/create', (_req, res) => sendJson(res, 201, { Id: ID, Warnings: [] }));
    daemon.on(`POST /containers/${ID}/start`, (_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    const r = await berth(daemon, ['run', '-d', 'busybox', 'sleep', '1']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${ID}\n`);
    const body = JSON.parse(daemon.requests.find((q) => q.path === '/containers/create')!.body);
    assert.equal(body.AttachStdout, false);
  });
});

test('rm: prints names, reports failures, exit 1; -f tolerates missing', async () => {
  await withDaemon(async (daemon) => {
    daemon.on('DELETE /containers/a', (_req, res) => sendError(res, 404, 'No such container: a'));
    daemon.on('DELETE /containers/b', (_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    const r = await berth(daemon, ['rm', 'a', 'b']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'b\n');
    assert.equal(r.stderr, 'Error response from daemon: No such container: a\n');
    const f = await berth(daemon, ['rm', '-f', 'a']);
    assert.equal(f.code, 0);
    assert.ok(daemon.calls().includes('DELETE /containers/a?force=1'));
  });
});

test('inspect: container, then image fallback, then "No such object"', async () => {
  await withDaemon(async (daemon) => {
    daemon.on('GET /containers/img/json', (_req, res) => sendError(res, 404, 'No such container: img'));
    daemon.on('GET /images/img/json', (_req, res) => sendJson(res, 200, { Id: 'sha256:1', RepoTags: ['img:latest'] }));
    daemon.on('GET /containers/zz/json', (_req, res) => sendError(res, 404, 'No such container: zz'));
    daemon.on('GET /images/zz/json', (_req, res) => sendError(res, 404, 'No such image: zz'));
    const r = await berth(daemon, ['inspect', 'img']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '[\n    {\n        "Id": "sha256:1",\n        "RepoTags": [\n            "img:latest"\n        ]\n    }\n]\n');
    const f = await berth(daemon, ['inspect', '-f', '{{index .RepoTags 0}}', 'img']);
    assert.equal(f.stdout, 'img:latest\n');
    const missing = await berth(daemon, ['inspect', 'zz']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '[]\n');
    assert.equal(missing.stderr, 'Error: No such object: zz\n');
  });
});

test('ps: query from flags; unknown flag exits 125', async () => {
  await withDaemon(async (daemon) => {
    daemon.on('GET /containers/json', (_req, res) => sendJson(res, 200, []));
    const r = await berth(daemon, ['container', 'ls', '-a', '-n', '2', '--filter', 'status=exited', '--filter', 'label=a=b']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
    const q = daemon.requests.find((x) => x.path === '/containers/json')!.query;
    assert.equal(q.get('all'), '1');
    assert.equal(q.get('limit'), '2');
    assert.deepEqual(JSON.parse(q.get('filters')!), { status: { exited: true }, label: { 'a=b': true } });
    const bad = await berth(daemon, ['ps', '--bogus']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^unknown flag: --bogus\n/);
  });
});
