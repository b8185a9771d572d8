import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { EngineClient } from '../../../src/client/index.ts';
import { demuxTo, FrameParser } from '../../../src/client/demux.ts';
import { StreamError } from '../../../src/client/progress.ts';
import { FakeDaemon, frame, sendJson, upgrade } from './fake-daemon.ts';

async function withDaemon(fn: (d: FakeDaemon, c: EngineClient) => Promise<void>): Promise<void> {
  const daemon = await new FakeDaemon().listen();
  const client = new EngineClient({ host: daemon.host, env: {} });
  try {
    await fn(daemon, client);
  } finally {
    client.close();
    await daemon.close();
  }
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

test('FrameParser handles frames split across chunks and several per chunk', () => {
  const all = Buffer.concat([frame(1, 'hi\n'), frame(2, 'err\n'), frame(1, '')]);
  const parser = new FrameParser();
  const out = [];
  for (let i = 0; i < all.length; i += 3) out.push(...parser.push(all.subarray(i, i + 3)));
  assert.deepEqual(
    out.map((f) => [f.stream, f.payload.toString()]),
    [
      [1, 'hi\n'],
      [2, 'err\n'],
      [1, ''],
    ],
  );
  assert.equal(parser.buffered, 0);
});

test('demuxTo: systemerr frame rejects', async () => {
  await assert.rejects(demuxTo(Readable.from([frame(3, 'runtime exploded\n')]), {}), /runtime exploded/);
});

test('attach hijack: 101, client half-closes after stdin EOF, output keeps flowing after', async () => {
  await withDaemon(async (daemon, client) => {
    let stdinSeen = '';
    daemon.onUpgrade('POST /containers/c1/attach', ({ req, socket }) => {
      assert.equal(req.headers.upgrade, 'tcp');
      assert.equal(req.headers.connection, 'Upgrade');
      assert.equal(req.query.get('stdin'), '1');
      upgrade(socket);
      socket.on('data', (c: Buffer) => (stdinSeen += c.toString()));
      // after the client's FIN, the daemon still writes (the process runs on), then closes
      socket.on('end', () => {
        socket.write(frame(1, `got:${stdinSeen}`));
        socket.write(frame(2, 'warn\n'));
        setTimeout(() => socket.end(), 10);
      });
    });
    const stdin = new PassThrough();
    const { socket } = await client.containers.attach('c1', { stdin });
    stdin.end('hello\n');
    const out = collect();
    const err = collect();
    await demuxTo(socket as Readable, { stdout: out.stream, stderr: err.stream });
    assert.equal(out.text(), 'got:hello\n');
    assert.equal(err.text(), 'warn\n');
  });
});

test('attach without stdin half-closes at once; a 404 before the upgrade is a typed error', async () => {
  await withDaemon(async (daemon, client) => {
    daemon.onUpgrade('POST /containers/c2/attach', ({ socket }) => {
      upgrade(socket, 'application/vnd.docker.raw-stream');
      socket.on('end', () => socket.end('raw tty output\r\n'));
      socket.resume();
    });
    const { socket, contentType } = await client.containers.attach('c2');
    assert.equal(contentType, 'application/vnd.docker.raw-stream');
    let text = '';
    for await (const c of socket) text += String(c);
    assert.equal(text, 'raw tty output\r\n');
    await assert.rejects(client.containers.attach('missing'), /page not found/);
  });
});

test('wait registered before start resolves at exit', async () => {
  await withDaemon(async (daemon, client) => {
    let finishWait: ((code: number) => void) | undefined;
    daemon.on('POST /containers/c3/wait', (req, res) => {
      assert.equal(req.query.get('condition'), 'next-exit');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      finishWait = (code) => res.end(JSON.stringify({ Error: null, StatusCode: code }) + '\n');
    });
    daemon.on('POST /containers/c3/start', (_req, res) => {
      res.statusCode = 204;
      res.end();
      setTimeout(() => finishWait?.(7), 20);
    });
    const pending = await client.containers.beginWait('c3', { condition: 'next-exit' });
    assert.ok(finishWait, 'wait registered before start');
    await client.containers.start('c3');
    assert.deepEqual(await pending.result, { Error: null, StatusCode: 7 });
    assert.deepEqual(daemon.calls(), ['POST /containers/c3/wait?condition=next-exit', 'POST /containers/c3/start']);
  });
});

test('a cancelled wait rejects its result and closes its connection', async () => {
  await withDaemon(async (daemon, client) => {
    let closed: Promise<void> | undefined;
    daemon.on('POST /containers/c4/wait', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      closed = new Promise((resolve) => res.once('close', () => resolve()));
    });
    const pending = await client.containers.beginWait('c4', { condition: 'next-exit' });
    pending.cancel();
    await assert.rejects(pending.result, /wait cancelled/);
    await closed;
  });
});

test('import streams a chunked body and reads JSON-lines progress; in-band errors reject', async () => {
  await withDaemon(async (daemon, client) => {
    daemon.on('POST /images/create', (req, res) => {
      assert.equal(req.headers['transfer-encoding'], 'chunked');
      assert.equal(req.query.get('fromSrc'), '-');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (req.query.get('repo') === 'bad') {
        res.end('{"errorDetail":{"message":"not a tar"},"error":"not a tar"}\r\n');
        return;
      }
      assert.equal(req.body, 'tardata');
      assert.deepEqual(req.query.getAll('changes'), ['CMD ["sh"]', 'ENV A=b']);
      res.write('{"status":"Importing","progressDetail":{"current":7},"id":"x"}\r\n');
      res.end('{"status":"sha256:abc"}\r\n');
    });
    const seen: string[] = [];
    const id = await client.images.import(Readable.from([Buffer.from('tar'), Buffer.from('data')]), {
      repo: 'imp',
      tag: 'v1',
      changes: ['CMD ["sh"]', 'ENV A=b'],
      onProgress: (m) => seen.push(m.status ?? ''),
    });
    assert.equal(id, 'sha256:abc');
    assert.deepEqual(seen, ['Importing', 'sha256:abc']);
    await assert.rejects(client.images.import(Readable.from([Buffer.from('x')]), { repo: 'bad' }), (e: Error) => e instanceof StreamError && e.message === 'not a tar');
  });
});

test('events stream as an async iterator until the signal aborts', async () => {
  await withDaemon(async (daemon, client) => {
    daemon.on('GET /events', (req, res) => {
      assert.equal(req.query.get('filters'), '{"type":{"container":true}}');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"Type":"container","Action":"start","Actor":{"ID":"a","Attributes":{}},"scope":"local","time":1,"timeNano":1}\n');
      res.write('{"Type":"container","Action":"die","Actor":{"ID":"a","Attributes":{"exitCode":"0"}},"scope":"local","time":2,"timeNano":2}\n');
    });
    const controller = new AbortController();
    const actions: string[] = [];
    for await (const ev of client.system.events({ filters: { type: ['container'] }, signal: controller.signal })) {
      actions.push(ev.Action);
      if (actions.length === 2) controller.abort();
    }
    assert.deepEqual(actions, ['start', 'die']);
  });
});

test('logs return the raw multiplexed stream', async () => {
  await withDaemon(async (daemon, client) => {
    daemon.on('GET /containers/c4/logs', (req, res) => {
      assert.equal(req.query.get('tail'), '2');
      assert.equal(req.query.get('timestamps'), '1');
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
      res.write(frame(1, 'a\n'));
      res.end(frame(2, 'b\n'));
    });
    const out = collect();
    const err = collect();
    await demuxTo(await client.containers.logs('c4', { tail: '2', timestamps: true }), { stdout: out.stream, stderr: err.stream });
    assert.equal(out.text(), 'a\n');
    assert.equal(err.text(), 'b\n');
    daemon.on('GET /version', (_req, res) => sendJson(res, 200, { Version: '0.1.0', ApiVersion: '1.47' }));
    assert.equal((await client.system.version()).Version, '0.1.0');
  });
});
