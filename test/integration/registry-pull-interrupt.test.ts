// A pull interrupted by killing the registry leaves no partial layer behind (no ingest file, no
// blob, no snapshot, no image), and a retry completes. A connection cut while the registry lives
// is resumed (Range) within the same pull.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { useDaemon, docker, listDir, TestDaemon } from '../helpers/daemon.ts';
import { TcpProxy, TestRegistry } from '../helpers/registry.ts';

const daemon = useDaemon();
const registry = new TestRegistry();
const proxy = new TcpProxy();
after(async () => {
  await proxy.stop();
  await registry.cleanup();
});

let setup: Promise<void> | undefined;
let name = '';
let layerDigest = '';
let imageId = '';

/** An image with one ~12 MB incompressible layer, pushed through the proxy (at full speed). */
async function prepare(): Promise<void> {
  await registry.start();
  await proxy.start(registry.port);
  name = `127.0.0.1:${proxy.port}/big/img:v1`;
  const pack = tar.pack();
  pack.entry({ name: 'big', size: 12 * 1024 * 1024, mode: 0o644 }, randomBytes(12 * 1024 * 1024));
  pack.entry({ name: 'hello', mode: 0o644 }, 'hello\n');
  pack.finalize();
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: daemon().socket, method: 'POST', path: `/images/create?fromSrc=-&repo=${encodeURIComponent(name.split(':v1')[0])}&tag=v1`, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    Readable.from(pack as unknown as AsyncIterable<Buffer>).pipe(req);
  });
  imageId = /sha256:[a-f0-9]{64}/.exec(body)![0];
  layerDigest = (await docker(daemon(), ['image', 'inspect', '--format', '{{index .RootFS.Layers 0}}', name])).stdout.trim();
  const push = await docker(daemon(), ['push', name], { timeoutMs: 120_000 });
  assert.equal(push.code, 0, push.stderr);
  assert.equal((await docker(daemon(), ['rmi', '-f', imageId])).code, 0);
}
const ready = (): Promise<void> => (setup ??= prepare());

/** POST /images/create and call `onLine` for every progress message as it arrives. */
function pullStream(ref: string, onLine: (m: { status?: string; progressDetail?: { current?: number }; error?: string }) => void): Promise<{ status: number; lines: string[] }> {
  const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: daemon().socket, method: 'POST', path: `/images/create?fromImage=${encodeURIComponent(repo)}&tag=${tag}`, headers: { 'X-Registry-Auth': 'e30=' } }, (res) => {
      let buf = '';
      const lines: string[] = [];
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (!line) continue;
          lines.push(line);
          onLine(JSON.parse(line) as { status?: string });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, lines }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const blobPath = (): string => join(daemon().dataRoot, 'content', 'blobs', 'sha256', layerDigest.slice(7));

test('killing the registry mid-pull leaves no partial layer; a retry completes', async () => {
  await ready();
  const snapshotsBefore = listDir(join(daemon().dataRoot, 'snapshots')).length;
  proxy.bytesPerTick = 16 * 1024; // ~800 kB/s: the 12 MB layer takes long enough to be interrupted
  let killed = false;
  const r = await pullStream(name, (m) => {
    if (!killed && m.status === 'Downloading' && (m.progressDetail?.current ?? 0) > 0) {
      killed = true;
      void registry.kill('SIGKILL').then(() => proxy.dropAll());
    }
  });
  assert.ok(killed, 'the download was under way when the registry died:\n' + r.lines.join('\n'));
  assert.equal(r.status, 200);
  assert.match(r.lines[r.lines.length - 1], /errorDetail/, r.lines.slice(-3).join('\n'));
  // nothing half-made: no ingest file, no layer blob, no new snapshot, no image
  assert.deepEqual(listDir(join(daemon().dataRoot, 'content', 'ingest')), []);
  assert.equal(listDir(join(daemon().dataRoot, 'content', 'blobs', 'sha256')).includes(layerDigest.slice(7)), false, blobPath());
  assert.equal(listDir(join(daemon().dataRoot, 'snapshots')).length, snapshotsBefore);
  assert.equal((await docker(daemon(), ['image', 'inspect', name])).code, 1);

  // the registry comes back (another port behind the same proxy address): the retry completes
  await registry.start();
  proxy.upstreamPort = registry.port;
  proxy.bytesPerTick = 0;
  const retry = await docker(daemon(), ['pull', name], { timeoutMs: 120_000 });
  assert.equal(retry.code, 0, retry.stderr + daemon().logs.slice(-3000));
  assert.equal((await docker(daemon(), ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim(), imageId);
  assert.ok(listDir(join(daemon().dataRoot, 'content', 'blobs', 'sha256')).includes(layerDigest.slice(7)));
});

test('a connection cut while the registry lives is resumed with Range in the same pull', async () => {
  await ready();
  assert.equal((await docker(daemon(), ['rmi', '-f', imageId])).code, 0);
  proxy.bytesPerTick = 16 * 1024;
  let cut = 0;
  const r = await pullStream(name, (m) => {
    if (cut === 0 && m.status === 'Downloading' && (m.progressDetail?.current ?? 0) > 0) {
      cut++;
      proxy.dropAll();
      proxy.bytesPerTick = 0;
    }
  });
  assert.equal(cut, 1);
  assert.doesNotMatch(r.lines.join('\n'), /errorDetail/);
  assert.match(r.lines[r.lines.length - 1], /Downloaded newer image/);
  assert.match(registry.logs, /url="\/v2\/big\/img\/blobs\/sha256:[a-f0-9]{64}" status=206/, 'the rest was fetched with Range');
  assert.equal((await docker(daemon(), ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim(), imageId);
});

test('berthd killed mid-download or before recording the image: a restart leaves nothing partial, the retry completes', async () => {
  await ready();
  proxy.bytesPerTick = 0;
  const d = new TestDaemon();
  try {
    for (const point of ['pull-layer-downloading', 'pull-before-record']) {
      await d.start({ BERTH_FAILPOINT: point });
      const r = await docker(d, ['pull', name], { timeoutMs: 120_000 });
      assert.notEqual(r.code, 0, `${point}: the daemon died during the pull`);
      await d.exited();
      await d.start();
      assert.deepEqual(listDir(join(d.dataRoot, 'content', 'ingest')), [], `${point}: no ingest file after restart`);
      assert.equal((await docker(d, ['image', 'inspect', name])).code, 1, `${point}: no image`);
      if (point === 'pull-layer-downloading') assert.ok(!listDir(join(d.dataRoot, 'content', 'blobs', 'sha256')).includes(layerDigest.slice(7)), 'no partial blob');
      const retry = await docker(d, ['pull', name], { timeoutMs: 120_000 });
      assert.equal(retry.code, 0, retry.stderr + d.logs.slice(-2000));
      if (point === 'pull-before-record') assert.match(retry.stdout, /Already exists/, 'complete layers are reused');
      assert.equal((await docker(d, ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim(), imageId);
      assert.equal((await docker(d, ['rmi', '-f', imageId])).code, 0);
      await d.stop();
    }
  } finally {
    await d.cleanup();
  }
});

test('a client that goes away mid-pull cancels it: the download stops and nothing is kept', async () => {
  await ready();
  assert.equal((await docker(daemon(), ['image', 'inspect', name])).code === 0 ? (await docker(daemon(), ['rmi', '-f', imageId])).code : 0, 0);
  const blobs = join(daemon().dataRoot, 'content', 'blobs', 'sha256');
  proxy.bytesPerTick = 16 * 1024;
  const [repo, tag] = [name.slice(0, name.lastIndexOf(':')), name.slice(name.lastIndexOf(':') + 1)];
  await new Promise<void>((resolve, reject) => {
    const req = request({ socketPath: daemon().socket, method: 'POST', path: `/images/create?fromImage=${encodeURIComponent(repo)}&tag=${tag}`, headers: { 'X-Registry-Auth': 'e30=' } }, (res) => {
      res.on('data', (c: Buffer) => {
        if (/"status":"Downloading"/.test(c.toString())) {
          // the client goes away; from now on a pull that kept going would finish at once
          req.destroy();
          proxy.bytesPerTick = 0;
          resolve();
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.on('close', () => resolve());
    req.end();
    setTimeout(() => reject(new Error('no Downloading progress')), 60_000).unref();
  });
  // wait until the layer's ingest file is gone: cancelled (no blob) or finished (blob) tells which
  for (let i = 0; i < 600 && listDir(join(daemon().dataRoot, 'content', 'ingest')).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(listDir(join(daemon().dataRoot, 'content', 'ingest')), []);
  assert.ok(!listDir(blobs).includes(layerDigest.slice(7)), 'the download was cancelled, not finished');
  assert.equal((await docker(daemon(), ['image', 'inspect', name])).code, 1);
});
