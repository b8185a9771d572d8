import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineClient } from '../../../src/client/index.ts';
import { encodeQuery, parseHost, resolveHost } from '../../../src/client/transport.ts';
import { isKind } from '../../../src/lib/errors.ts';
import { FakeDaemon, sendError, sendJson } from './fake-daemon.ts';

async function withDaemon(
  options: ConstructorParameters<typeof FakeDaemon>[0],
  fn: (d: FakeDaemon, c: EngineClient) => Promise<void>,
): Promise<void> {
  const daemon = await new FakeDaemon(options).listen();
  const client = new EngineClient({ host: daemon.host, env: {} });
  try {
    await fn(daemon, client);
  } finally {
    client.close();
    await daemon.close();
  }
}

test('host resolution: option, BERTH_HOST, DOCKER_HOST, default', () => {
  assert.equal(resolveHost('unix:///a', { BERTH_HOST: 'unix:///b' }), 'unix:///a');
  assert.equal(resolveHost(undefined, { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///c' }), 'unix:///b');
  assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///c' }), 'unix:///c');
  assert.equal(resolveHost(undefined, {}), 'unix:///run/berth/berth.sock');
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { hostname: '127.0.0.1', port: 2375 });
  assert.deepEqual(parseHost('unix:///run/x.sock'), { socketPath: '/run/x.sock' });
});

test('query encoding: booleans as 1, arrays repeated, undefined dropped', () => {
  assert.equal(encodeQuery({ all: true, x: undefined, changes: ['CMD ["sh"]', 'ENV A=b'] }), '?all=1&changes=CMD%20%5B%22sh%22%5D&changes=ENV%20A%3Db');
});

for (const [daemonVersion, expected] of [
  ['1.51', '1.47'],
  ['1.41', '1.41'],
  ['1.24', '1.24'],
] as const) {
  test(`negotiates ${expected} with a daemon at ${daemonVersion}, without a ping`, async () => {
    await withDaemon({ apiVersion: daemonVersion }, async (daemon, client) => {
      daemon.on('GET /containers/json', (_req, res) => sendJson(res, 200, []));
      await client.containers.list();
      await client.containers.list({ all: true });
      assert.equal(await client.apiVersion(), expected);
      // the first request goes out at our version; an older daemon refuses it (400) and it is sent
      // again at the daemon's; the answer's Api-Version header settles the rest
      assert.deepEqual(daemon.requests.filter((r) => r.path === '/_ping'), []);
      const listed = daemon.requests.filter((r) => r.path === '/containers/json');
      const older = expected !== '1.47';
      assert.deepEqual(
        listed.map((r) => r.version),
        older ? ['1.47', expected, expected] : [expected, expected],
      );
      assert.equal(listed.at(-1)!.query.get('all'), '1');
    });
  });
}

test('a request with a streamed body negotiates with a ping first (it cannot be sent twice)', async () => {
  await withDaemon({ apiVersion: '1.41' }, async (daemon, client) => {
    daemon.on('POST /images/load', (_req, res) => sendJson(res, 200, {}));
    const { Readable } = await import('node:stream');
    const res = await client.transport.request({ method: 'POST', path: '/images/load', body: Readable.from([Buffer.from('x')]) });
    res.resume();
    assert.deepEqual(
      daemon.requests.map((r) => `${r.method} ${r.version ?? ''}${r.path}`),
      ['HEAD /_ping', 'POST 1.41/images/load'],
    );
  });
});

test('a 400 that is not about the version is the error it says, sent once, and settles the version', async () => {
  await withDaemon({ apiVersion: '1.47' }, async (daemon, client) => {
    daemon.on('POST /containers/create', (_req, res) => sendJson(res, 400, { message: 'invalid Memory' }));
    await assert.rejects(client.transport.json({ method: 'POST', path: '/containers/create', json: {} }), (err: Error) => err.message === 'invalid Memory');
    assert.equal(daemon.requests.filter((r) => r.path === '/containers/create').length, 1);
    assert.equal(await client.apiVersion(), '1.47');
  });
});

test('a first HEAD refused by an older daemon (no body) is resent at the Api-Version it answered with', async () => {
  await withDaemon({ apiVersion: '1.43' }, async (daemon, client) => {
    daemon.on('HEAD /containers/web/archive', (_req, res) => {
      res.statusCode = 200;
      res.end();
    });
    const res = await client.transport.request({ method: 'HEAD', path: '/containers/web/archive', query: { path: '/etc' } });
    res.resume();
    assert.deepEqual(
      daemon.requests.map((r) => `${r.method} ${r.version}`),
      ['HEAD 1.47', 'HEAD 1.43'],
    );
  });
});

test('a daemon that sends no Api-Version: after the first request, the fallback version (as after a ping)', async () => {
  await withDaemon({ apiVersion: null }, async (daemon, client) => {
    daemon.on('GET /containers/json', (_req, res) => sendJson(res, 200, []));
    await client.containers.list();
    await client.containers.list();
    assert.deepEqual(
      daemon.requests.filter((r) => r.path === '/containers/json').map((r) => r.version),
      ['1.47', '1.24'],
    );
    assert.equal(await client.apiVersion(), '1.24');
  });
});

test('missing Api-Version header falls back to 1.24', async () => {
  await withDaemon({ apiVersion: null }, async (_daemon, client) => {
    assert.equal(await client.apiVersion(), '1.24');
  });
});

test('HEAD ping 404 retries with GET; 500 still counts', async () => {
  await withDaemon({ headPingStatus: 404, apiVersion: '1.43' }, async (daemon, client) => {
    assert.equal(await client.apiVersion(), '1.43');
    assert.deepEqual(
      daemon.requests.map((r) => r.method),
      ['HEAD', 'GET'],
    );
  });
  await withDaemon({ headPingStatus: 500, apiVersion: '1.43' }, async (daemon, client) => {
    assert.equal(await client.apiVersion(), '1.43');
    assert.equal(daemon.requests.length, 1);
  });
});

test('a pinned version is used as is', async () => {
  const daemon = await new FakeDaemon({ apiVersion: '1.41' }).listen();
  const client = new EngineClient({ host: daemon.host, env: { DOCKER_API_VERSION: '1.45' } });
  try {
    assert.equal(await client.apiVersion(), '1.45');
  } finally {
    client.close();
    await daemon.close();
  }
});

test('error statuses become typed errors with the daemon message', async () => {
  await withDaemon({}, async (daemon, client) => {
    daemon.on('GET /containers/nope/json', (_req, res) => sendError(res, 404, 'No such container: nope'));
    daemon.on('POST /containers/create', (_req, res) =>
      sendError(res, 409, 'Conflict. The container name "/xc" is already in use by container "abc".'),
    );
    daemon.on('DELETE /images/busy', (_req, res) => sendError(res, 500, 'boom'));
    daemon.on('POST /containers/x/stop', (_req, res) => {
      res.statusCode = 304;
      res.end();
    });
    daemon.on('POST /containers/bad/kill', (_req, res) => sendJson(res, 400, {}));
    await assert.rejects(client.containers.inspect('nope'), (err: Error) => isKind(err, 'NotFound') && err.message === 'No such container: nope');
    await assert.rejects(client.containers.create({ Image: 'busybox' }, { name: 'xc' }), (err: Error) => isKind(err, 'Conflict'));
    await assert.rejects(client.images.remove('busy'), (err: Error) => isKind(err, 'System') && err.message === 'boom');
    await assert.rejects(
      client.containers.kill('bad'),
      (err: Error) => isKind(err, 'InvalidParameter') && err.message === 'API returned a 400 (Bad Request) but provided no error-message',
    );
    assert.deepEqual(await client.containers.stop('x'), { notModified: true });
    const create = daemon.requests.find((r) => r.path === '/containers/create');
    assert.equal(create?.query.get('name'), 'xc');
    assert.equal(create?.headers['content-type'], 'application/json');
    assert.equal(create?.body, '{"Image":"busybox"}\n');
  });
});

test('an unreachable socket is a DaemonUnreachable', async () => {
  const client = new EngineClient({ host: 'unix:///nonexistent/berth.sock', env: {} });
  await assert.rejects(client.containers.list(), (err: Error) => isKind(err, 'Unavailable') && /Cannot connect/.test(err.message));
  client.close();
});
