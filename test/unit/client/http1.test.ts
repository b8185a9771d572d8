// The client's HTTP/1.1 (src/client/http1.ts) against node:http servers and hand-written raw
// responses: framing (length, chunked split anywhere, none, until close), keep-alive reuse and
// its loss, streamed request bodies, upgrades, aborts and malformed answers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createConnection, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Http1Client, HttpResponse, type Upgraded } from '../../../src/client/http1.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-http1-'));
let n = 0;
const servers: Array<HttpServer | NetServer> = [];
const sockets = new Set<Socket>();
after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function listen<T extends HttpServer | NetServer>(server: T): Promise<{ server: T; client: Http1Client; path: string }> {
  const path = join(dir, `s${n++}.sock`);
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(path, () => resolve({ server, path, client: new Http1Client(({ allowHalfOpen }) => createConnection({ path, allowHalfOpen })) })));
}

/** A server that answers every request with `reply(requestHead)` written in pieces of `step` bytes. */
function rawServer(reply: (head: string) => string | Buffer, step = 0): NetServer {
  return createNetServer((sock: Socket) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const out = Buffer.from(reply(head));
        if (!step) sock.write(out);
        else for (let i = 0; i < out.length; i += step) sock.write(out.subarray(i, i + step));
      }
    });
    sock.on('error', () => undefined);
  });
}

function text(res: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.once('end', () => resolve(Buffer.concat(parts).toString()));
    res.once('error', reject);
  });
}

const GET = (path: string) => ({ method: 'GET', path, headers: { Host: 'x' } });

test('content-length and chunked bodies; keep-alive reuses one connection', async () => {
  let connections = 0;
  const server = createHttpServer((req, res) => {
    if (req.url === '/chunked') {
      res.write('hello, ');
      setTimeout(() => res.end('chunked world'), 5);
    } else res.end(JSON.stringify({ url: req.url }));
  });
  server.on('connection', () => connections++);
  const { client } = await listen(server);
  for (const p of ['/a', '/chunked', '/b', '/chunked']) {
    const res = await client.request(GET(p));
    assert.equal(res.statusCode, 200);
    assert.equal(await text(res), p === '/chunked' ? 'hello, chunked world' : JSON.stringify({ url: p }));
  }
  assert.equal(connections, 1);
  client.close();
});

test('chunked coding split at every byte, with extensions and trailers; headers joined', async () => {
  const body = '5;ext=1\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n';
  const { client } = await listen(rawServer(() => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n${body}`, 1));
  for (let i = 0; i < 2; i++) {
    const res = await client.request(GET('/'));
    assert.equal(res.headers['x-a'], '1, 2');
    assert.equal(await text(res), 'hello, world');
  }
  client.close();
});

test('no body for HEAD, 204 and 304; the connection carries the next request', async () => {
  const { client } = await listen(
    rawServer((head) => {
      if (head.startsWith('HEAD')) return 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nApi-Version: 1.47\r\n\r\n';
      if (head.includes('/204')) return 'HTTP/1.1 204 No Content\r\n\r\n';
      if (head.includes('/304')) return 'HTTP/1.1 304 Not Modified\r\n\r\n';
      return 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK';
    }),
  );
  const head = await client.request({ method: 'HEAD', path: '/_ping', headers: {} });
  assert.equal(head.headers['api-version'], '1.47');
  assert.equal(await text(head), '');
  assert.equal(await text(await client.request({ method: 'POST', path: '/204', headers: {} })), '');
  assert.equal((await client.request(GET('/304'))).statusCode, 304);
  assert.equal(await text(await client.request(GET('/'))), 'OK');
  client.close();
});

test('a body without length ends with the connection (not reused); 100 Continue is skipped', async () => {
  let connections = 0;
  const server = createNetServer((sock) => {
    connections++;
    sock.once('data', () => sock.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil the end'));
  });
  const { client } = await listen(server);
  assert.equal(await text(await client.request(GET('/'))), 'until the end');
  assert.equal(await text(await client.request(GET('/'))), 'until the end');
  assert.equal(connections, 2);
  client.close();
});

test('a streamed request body goes chunked and arrives whole; JSON bodies carry their length', async () => {
  const server = createHttpServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => res.end(JSON.stringify({ te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null, len: Buffer.concat(parts).length })));
  });
  const { client } = await listen(server);
  const big = Buffer.alloc(3 << 20, 7);
  const pieces = [big.subarray(0, 1), big.subarray(1, 100_000), big.subarray(100_000)];
  const res = await client.request({ method: 'POST', path: '/import', headers: {}, body: Readable.from(pieces) });
  assert.deepEqual(JSON.parse(await text(res)), { te: 'chunked', cl: null, len: big.length });
  const json = await client.request({ method: 'POST', path: '/create', headers: {}, body: '{"a":"é"}\n' });
  assert.deepEqual(JSON.parse(await text(json)), { te: null, cl: String(Buffer.byteLength('{"a":"é"}\n')), len: Buffer.byteLength('{"a":"é"}\n') });
  const empty = await client.request({ method: 'POST', path: '/start', headers: {} });
  assert.deepEqual(JSON.parse(await text(empty)), { te: null, cl: '0', len: 0 });
  client.close();
});

test('an answer that comes before the streamed body is all sent ends that connection', { timeout: 10_000 }, async () => {
  let connections = 0;
  // refuses at once, keep-alive, without reading the body
  const server = createNetServer((sock) => {
    connections++;
    let answered = false;
    sock.on('data', () => {
      if (answered) return;
      answered = true;
      sock.write('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{"message":"nope"}');
    });
    sock.on('error', () => undefined);
  });
  const { client } = await listen(server);
  const body = new Readable({ read() {} });
  body.push('first part');
  const res = await client.request({ method: 'POST', path: '/load', headers: {}, body });
  assert.equal(res.statusCode, 400);
  assert.equal(await text(res), '{"message":"nope"}');
  body.push('more that must not reach a next request');
  body.push(null);
  const next = await client.request(GET('/'));
  assert.equal(next.statusCode, 400);
  assert.equal(connections, 2);
  client.close();
});

test('a large body read slowly arrives whole (backpressure), and the connection is reused after', async () => {
  const payload = Buffer.alloc(8 << 20, 1);
  let connections = 0;
  const server = createHttpServer((req, res) => res.end(req.url === '/big' ? payload : 'small'));
  server.on('connection', () => connections++);
  const { client } = await listen(server);
  const res = await client.request(GET('/big'));
  let got = 0;
  for await (const chunk of res) {
    got += (chunk as Buffer).length;
    if (got < 1 << 20) await new Promise((r) => setImmediate(r));
  }
  assert.equal(got, payload.length);
  assert.equal(await text(await client.request(GET('/small'))), 'small');
  assert.equal(connections, 1);
  client.close();
});

test('an idle connection the server closes is dropped; the next request opens another', async () => {
  let connections = 0;
  // answers, then closes the connection 20 ms later (a keep-alive timeout)
  const server = createNetServer((sock) => {
    connections++;
    sock.once('data', () => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => sock.end(), 20);
    });
  });
  const { client } = await listen(server);
  assert.equal(await text(await client.request(GET('/'))), 'ok');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await text(await client.request(GET('/'))), 'ok');
  assert.equal(connections, 2);
  client.close();
});

test('upgrade: 101 with stream bytes in the same write; a refusal is a response with its body', async () => {
  const server = createNetServer((sock) => {
    sock.once('data', (d) => {
      if (d.toString().includes('/refuse')) sock.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"message":"No such thing"}');
      else {
        sock.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nfirst bytes|');
        sock.on('data', (more) => sock.write(`echo:${more.toString()}`));
        sock.on('end', () => sock.end('|bye'));
      }
    });
  });
  const { client } = await listen(server);
  const up = (await client.upgrade({ method: 'POST', path: '/attach', headers: { Connection: 'Upgrade', Upgrade: 'tcp' } })) as Upgraded;
  assert.ok(!(up instanceof HttpResponse));
  assert.equal(up.headers['content-type'], 'application/vnd.docker.raw-stream');
  const out = text(up.socket);
  up.socket.resume(); // handed over paused
  up.socket.write('in');
  await new Promise((r) => setTimeout(r, 50));
  up.socket.end(); // half-close: the output keeps coming
  assert.equal(await out, 'first bytes|echo:in|bye');
  const refused = await client.upgrade({ method: 'POST', path: '/refuse', headers: {} });
  assert.ok(refused instanceof HttpResponse);
  assert.equal(refused.statusCode, 404);
  assert.equal(await text(refused), '{"message":"No such thing"}');
  client.close();
});

test('an abort ends a streaming response with an error; the connection is not reused', async () => {
  let connections = 0;
  const server = createHttpServer((req, res) => {
    if (req.url === '/stream') res.write('tick\n');
    else res.end('fine');
  });
  server.on('connection', () => connections++);
  const { client } = await listen(server);
  const ac = new AbortController();
  const res = await client.request({ ...GET('/stream'), signal: ac.signal });
  const first = await new Promise<string>((r) => res.once('data', (c: Buffer) => r(c.toString())));
  assert.equal(first, 'tick\n');
  const failed = new Promise<Error>((r) => res.once('error', r));
  ac.abort();
  assert.ok(await failed);
  await assert.rejects(client.request({ ...GET('/x'), signal: ac.signal }), /abort/i);
  assert.equal(await text(await client.request(GET('/x'))), 'fine');
  assert.equal(connections, 2);
  client.close();
});

test('malformed answers and lost connections reject; an unreachable socket has its code', async () => {
  const { client: garbage } = await listen(rawServer(() => 'SPDY/3 200 OK\r\n\r\n'));
  await assert.rejects(garbage.request(GET('/')), /malformed response/);
  const { client: badLength } = await listen(rawServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n'));
  await assert.rejects(badLength.request(GET('/')), /content-length/);
  const { client: cut } = await listen(createNetServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'))));
  const res = await cut.request(GET('/'));
  await assert.rejects(text(res), (err: Error & { code?: string }) => err.code === 'ECONNRESET');
  const { client: hangup } = await listen(createNetServer((s) => s.once('data', () => s.end())));
  await assert.rejects(hangup.request(GET('/')), (err: Error & { code?: string }) => err.code === 'ECONNRESET');
  const nowhere = new Http1Client(({ allowHalfOpen }) => createConnection({ path: join(dir, 'nothing.sock'), allowHalfOpen }));
  await assert.rejects(nowhere.request(GET('/')), (err: Error & { code?: string }) => err.code === 'ENOENT');
  for (const c of [garbage, badLength, cut, hangup, nowhere]) c.close();
});
