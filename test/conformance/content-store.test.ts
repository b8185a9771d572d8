import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { sha256 } from '../../src/lib/digest.ts';
import type { ContentStore } from '../../src/store/content/store.ts';
import { LocalContentStore } from '../../src/store/content/local.ts';
import { MetaDb } from '../../src/store/meta/db.ts';

interface ContentFixture {
  store: ContentStore;
  /** Files in the store's temporary area (must be empty after any failed write). */
  ingestFiles: () => string[];
  cleanup: () => void;
}

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The shared suite every ContentStore implementation must pass. */
export function contentStoreSuite(name: string, make: () => ContentFixture): void {
  describe(`ContentStore conformance: ${name}`, () => {
    const withStore = (fn: (f: ContentFixture) => Promise<void>) => async () => {
      const f = make();
      try {
        await fn(f);
      } finally {
        f.cleanup();
      }
    };

    test('writeBytes/readBytes/info/has', withStore(async ({ store }) => {
      const data = Buffer.from('hello blob');
      const d = await store.writeBytes(data, { mediaType: 'text/plain' });
      assert.equal(d, sha256(data));
      assert.ok(await store.has(d));
      assert.deepEqual(await store.readBytes(d), data);
      const info = await store.info(d);
      assert.equal(info?.size, data.length);
      assert.equal(info?.digest, d);
      // Writing the same content again is idempotent.
      assert.equal(await store.writeBytes(data), d);
    }));

    test('writeStream verifies the expected digest', withStore(async ({ store }) => {
      const parts = [Buffer.from('a'.repeat(70000)), Buffer.from('b'.repeat(12345))];
      const whole = Buffer.concat(parts);
      const r = await store.writeStream(Readable.from(parts), { expected: sha256(whole) });
      assert.deepEqual(r, { digest: sha256(whole), size: whole.length });
      assert.deepEqual(await store.readBytes(r.digest), whole);
    }));

    test('a digest mismatch leaves nothing behind', withStore(async ({ store, ingestFiles }) => {
      const wrong = sha256('something else');
      await assert.rejects(store.writeStream(Readable.from([Buffer.from('payload')]), { expected: wrong }), { kind: 'InvalidParameter', message: /digest mismatch/ });
      await assert.rejects(store.writeBytes(Buffer.from('payload'), { expected: wrong }), { kind: 'InvalidParameter' });
      assert.equal(await store.has(wrong), false);
      assert.equal(await store.has(sha256('payload')), false);
      assert.deepEqual(ingestFiles(), []);
      assert.deepEqual(await store.list(), []);
    }));

    test('a failing source leaves nothing behind', withStore(async ({ store, ingestFiles }) => {
      async function* broken(): AsyncGenerator<Buffer> {
        yield Buffer.from('partial');
        throw new Error('connection reset');
      }
      await assert.rejects(store.writeStream(Readable.from(broken())), /connection reset/);
      assert.deepEqual(ingestFiles(), []);
      assert.deepEqual(await store.list(), []);
    }));

    test('openWriter: published only by commit, after its digest matched', withStore(async ({ store, ingestFiles }) => {
      const parts = Array.from({ length: 40 }, (_, i) => Buffer.alloc(50_000 + i, i));
      const whole = Buffer.concat(parts);
      const w = await store.openWriter({ expected: sha256(whole), mediaType: 'application/octet-stream' });
      for (const p of parts) {
        const wait = w.write(p);
        if (wait) await wait;
      }
      assert.equal(w.size, whole.length);
      assert.equal(await store.has(sha256(whole)), false, 'not visible before commit');
      assert.equal(await w.digest(), sha256(whole));
      assert.deepEqual(await w.commit(), { digest: sha256(whole), size: whole.length });
      await w.abort(); // harmless after a commit
      assert.deepEqual(await store.readBytes(sha256(whole)), whole);
      assert.deepEqual(ingestFiles(), []);

      const bad = await store.openWriter({ expected: sha256('other') });
      bad.write(Buffer.from('payload'));
      await assert.rejects(bad.commit(), { kind: 'InvalidParameter', message: /digest mismatch/ });
      assert.equal(await store.has(sha256('payload')), false);
      const dropped = await store.openWriter();
      dropped.write(Buffer.from('half'));
      await dropped.abort();
      assert.deepEqual(ingestFiles(), []);
      assert.deepEqual((await store.list()).map((b) => b.digest), [sha256(whole)]);
    }));

    test('openWriter of a large blob (hashed off the main thread) verifies it the same way', withStore(async ({ store, ingestFiles }) => {
      const parts = Array.from({ length: 100 }, (_, i) => Buffer.alloc(65_536 + i, i));
      const whole = Buffer.concat(parts);
      for (const expected of [sha256(whole), sha256('wrong')]) {
        const w = await store.openWriter({ expected, size: whole.length });
        for (const p of parts) {
          const wait = w.write(p);
          if (wait) await wait;
        }
        assert.equal(await w.digest(), sha256(whole));
        if (expected === sha256(whole)) assert.deepEqual(await w.commit(), { digest: sha256(whole), size: whole.length });
        else await assert.rejects(w.commit(), { kind: 'InvalidParameter', message: /digest mismatch/ });
      }
      assert.deepEqual(await store.readBytes(sha256(whole)), whole);
      const dropped = await store.openWriter({ size: whole.length });
      dropped.write(whole);
      await dropped.abort();
      assert.deepEqual(ingestFiles(), []);
    }));

    test('range reads', withStore(async ({ store }) => {
      const d = await store.writeBytes(Buffer.from('0123456789'));
      assert.equal((await collect(store.readStream(d, { start: 2, end: 5 }))).toString(), '2345');
      assert.equal((await collect(store.readStream(d, { start: 7 }))).toString(), '789');
      assert.equal((await collect(store.readStream(d))).toString(), '0123456789');
    }));

    test('list and delete', withStore(async ({ store }) => {
      const a = await store.writeBytes(Buffer.from('a'));
      const b = await store.writeBytes(Buffer.from('b'));
      assert.deepEqual((await store.list()).map((i) => i.digest).sort(), [a, b].sort());
      await store.delete(a);
      assert.equal(await store.has(a), false);
      assert.deepEqual((await store.list()).map((i) => i.digest), [b]);
      await assert.rejects(store.delete(a), { kind: 'NotFound' });
      await assert.rejects(store.readBytes(a), { kind: 'NotFound' });
      assert.throws(() => store.path(a), { kind: 'NotFound' });
    }));

    test('invalid digests are refused', withStore(async ({ store }) => {
      await assert.rejects(store.readBytes('sha256:../../etc/passwd'), { kind: 'InvalidParameter' });
      assert.equal(await store.info('sha256:' + 'a'.repeat(64)), undefined);
    }));
  });
}

contentStoreSuite('LocalContentStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-content-'));
  const db = new MetaDb(join(dir, 'meta.db'));
  const store = new LocalContentStore({ root: join(dir, 'content'), db });
  return {
    store,
    ingestFiles: () => readdirSync(join(dir, 'content', 'ingest')),
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

test('LocalContentStore sweeps stale ingest files at construction', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-content-'));
  try {
    const { writeFileSync } = await import('node:fs');
    new LocalContentStore({ root: dir });
    writeFileSync(join(dir, 'ingest', 'leftover'), 'half a blob');
    const store = new LocalContentStore({ root: dir });
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
    assert.deepEqual(await store.list(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
