// layerSink: a layer fed chunk by chunk (as a download arrives), unpacked and hashed on the way.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { layerSink, type LayerSink } from '../../../../src/store/diff/apply.ts';

async function makeTar(entries: Array<{ name: string; data?: Buffer; type?: 'directory'; mode?: number }>): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  for (const { data, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ mode: h.type === 'directory' ? 0o755 : 0o644, mtime: new Date('2020-01-01T00:00:00Z'), ...h }, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** Feed `data` in uneven chunks (the first one shorter than the 4 bytes that tell the compression). */
async function feed(sink: LayerSink, data: Buffer): Promise<void> {
  const sizes = [1, 2, 7, 4096, 65536, 100_000];
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length];
    const wait = sink.write(data.subarray(off, off + n));
    off += n;
    if (wait) await wait;
  }
}

describe('layerSink', () => {
  let dir: string;
  let tarball: Buffer;
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'x');
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-sink-'));
    tarball = await makeTar([{ name: 'd/', type: 'directory' }, { name: 'd/big', data: big, mode: 0o600 }, { name: 'small', data: Buffer.from('hi\n') }]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const [kind, encode, offThread] of [['none', (b: Buffer) => b, false], ['gzip', gzipSync, true], ['zstd', zstdCompressSync, false]] as const) {
    test(`${kind}: unpacks while fed and reports the diff ID${offThread ? ' (hashed on the worker thread)' : ''}`, async () => {
      const sink = layerSink(dir, { durable: true, hashOffThread: offThread });
      await feed(sink, encode(tarball));
      const r = await sink.end();
      assert.equal(r.compression, kind);
      assert.equal(r.diffId, sha(tarball));
      assert.equal(r.size, big.length + 3);
      assert.ok(readFileSync(join(dir, 'd/big')).equals(big));
      assert.equal(statSync(join(dir, 'd/big')).mode & 0o777, 0o600);
      assert.equal(readFileSync(join(dir, 'small'), 'utf8'), 'hi\n');
    });
  }

  test("diffId 'compressed' skips hashing a plain tar (the caller's digest is the diff ID); no dir only verifies", async () => {
    const plain = layerSink(dir, { diffId: 'compressed' });
    await feed(plain, tarball);
    assert.equal((await plain.end()).diffId, undefined);
    const verify = layerSink(undefined, { diffId: 'compressed' });
    await feed(verify, gzipSync(tarball));
    const r = await verify.end();
    assert.deepEqual(r, { compression: 'gzip', diffId: sha(tarball), size: 0 });
  });

  test('a corrupt stream or tar fails end(); destroy() stops it and leaves nothing in flight', async () => {
    const gz = gzipSync(tarball);
    gz[gz.length - 20] ^= 0xff; // the gzip trailer's CRC no longer matches
    const broken = layerSink(join(dir, 'broken'));
    await feed(broken, gz).catch(() => undefined);
    await assert.rejects(broken.end());

    const sub = join(dir, 'cut');
    const cut = layerSink(sub);
    await feed(cut, tarball.subarray(0, 2 * 1024 * 1024));
    await cut.destroy(new Error('connection reset'));
    await assert.rejects(cut.end(), /connection reset/);
    for (const d of ['broken', 'cut']) rmSync(join(dir, d), { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(dir), [], 'nothing was written after destroy() returned');
  });
});
