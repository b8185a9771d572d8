import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Mount, Snapshotter } from '../../src/store/snapshots/snapshotter.ts';
import { OverlaySnapshotter } from '../../src/store/snapshots/overlay/overlay.ts';
import { VfsSnapshotter } from '../../src/store/snapshots/vfs/vfs.ts';
import { MetaDb } from '../../src/store/meta/db.ts';
import { unpackLayer } from '../../src/store/images/unpack.ts';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/** A layer tar in memory. */
async function layerTar(entries: Array<Partial<tar.Header> & { name: string; data?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  for (const { data, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ mode: h.type === 'directory' ? 0o755 : 0o644, mtime: new Date('2020-01-01T00:00:00Z'), ...h }, data ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

interface SnapshotterFixture {
  snapshotter: Snapshotter;
  /** The directory the snapshotter keeps its snapshots in. */
  root: string;
  /** A scratch directory for mount points. */
  scratch: string;
  cleanup: () => void;
}

const isRoot = process.getuid?.() === 0;

/** Mount what a snapshotter returned (as the daemon will) and return an unmount function. */
function mountAll(mounts: Mount[], target: string): () => void {
  assert.equal(mounts.length, 1);
  const m = mounts[0];
  mkdirSync(target, { recursive: true });
  if (m.type === 'bind') {
    execFileSync('mount', ['--bind', m.source, target]);
    if (m.options.includes('ro')) execFileSync('mount', ['-o', 'remount,bind,ro', target]);
  } else {
    execFileSync('mount', ['-t', m.type, m.source, '-o', m.options.join(','), target]);
  }
  return () => execFileSync('umount', [target]);
}

/** The shared suite every Snapshotter implementation must pass. */
export function snapshotterSuite(name: string, make: () => SnapshotterFixture): void {
  describe(`Snapshotter conformance: ${name}`, () => {
    const withSnapshotter = (fn: (f: SnapshotterFixture, defer: (undo: () => void) => void) => Promise<void>) => async () => {
      const f = make();
      const undo: Array<() => void> = [];
      try {
        await fn(f, (u) => undo.push(u));
      } finally {
        // Unmount before deleting, even when an assertion failed.
        for (const u of undo.reverse()) {
          try {
            u();
          } catch {
            /* keep cleaning */
          }
        }
        f.cleanup();
      }
    };

    test('prepare, commit, stat, list', withSnapshotter(async ({ snapshotter: s }) => {
      const mounts = await s.prepare('base-active');
      assert.equal(mounts.length, 1);
      const upper = await s.upperDir('base-active');
      writeFileSync(join(upper, 'a.txt'), 'layer1');
      await s.commit('layer1', 'base-active');
      assert.equal(await s.stat('base-active'), undefined);
      const info = await s.stat('layer1');
      assert.equal(info?.kind, 'committed');
      assert.equal(info?.size, 6);
      assert.equal(info?.parent, undefined);

      await s.prepare('child-active', 'layer1');
      const child = await s.stat('child-active');
      assert.equal(child?.kind, 'active');
      assert.equal(child?.parent, 'layer1');
      assert.deepEqual((await s.list()).map((i) => i.key).sort(), ['child-active', 'layer1']);
    }));

    test('keys are unique; parents must be committed; missing keys are NotFound', withSnapshotter(async ({ snapshotter: s }) => {
      await s.prepare('k');
      await assert.rejects(s.prepare('k'), { kind: 'Conflict' });
      await assert.rejects(s.prepare('k2', 'k'), { kind: 'InvalidParameter' });
      await assert.rejects(s.prepare('k3', 'nope'), { kind: 'NotFound' });
      await assert.rejects(s.commit('x', 'nope'), { kind: 'NotFound' });
      await assert.rejects(s.remove('nope'), { kind: 'NotFound' });
      await assert.rejects(s.mounts('nope'), { kind: 'NotFound' });
      await s.commit('c', 'k');
      await s.prepare('k');
      await assert.rejects(s.commit('c', 'k'), { kind: 'Conflict' });
    }));

    test('commit on another parent: overlay layers are independent, vfs trees are not', withSnapshotter(async ({ snapshotter: s }) => {
      await s.prepare('base-active');
      await s.commit('base', 'base-active');
      await s.prepare('early'); // unpacked before its parent was committed
      await s.prepare('other-active');
      await assert.rejects(s.commit('l2', 'early', { parent: 'other-active' }), { kind: 'InvalidParameter' });
      await assert.rejects(s.commit('l2', 'early', { parent: 'nope' }), s.layout === 'copy' ? { kind: 'InvalidParameter' } : { kind: 'NotFound' });
      if (s.layout === 'copy') {
        await assert.rejects(s.commit('l2', 'early', { parent: 'base' }), { kind: 'InvalidParameter' });
        return;
      }
      await s.commit('l2', 'early', { parent: 'base' });
      assert.equal((await s.stat('l2'))?.parent, 'base');
      assert.equal((await s.stat('l2'))?.kind, 'committed');
      await assert.rejects(s.remove('base'), { kind: 'Conflict' });
    }));

    test('remove refuses a parent with children, then works top-down', withSnapshotter(async ({ snapshotter: s, root }) => {
      await s.prepare('a');
      await s.commit('l1', 'a');
      await s.prepare('b', 'l1');
      await s.commit('l2', 'b');
      await s.view('v', 'l2');
      await assert.rejects(s.remove('l1'), { kind: 'Conflict' });
      await assert.rejects(s.remove('l2'), { kind: 'Conflict' });
      await s.remove('v');
      await s.remove('l2');
      await s.remove('l1');
      assert.deepEqual(await s.list(), []);
      assert.deepEqual(readdirSync(root), []);
    }));

    test('cleanupOrphans removes directories without records and keeps the rest', withSnapshotter(async ({ snapshotter: s, root }) => {
      await s.prepare('keep');
      const keepDir = await s.upperDir('keep');
      mkdirSync(join(root, 'orphan', 'fs'), { recursive: true });
      mkdirSync(join(root, '.tmp-half-made'), { recursive: true });
      assert.equal(await s.cleanupOrphans(), 2);
      assert.ok(existsSync(keepDir));
      assert.ok(!existsSync(join(root, 'orphan')));
      assert.equal(await s.cleanupOrphans(), 0);
    }));

    test('mounts layer parents under the active snapshot', { skip: !isRoot && 'needs root to mount' }, withSnapshotter(async ({ snapshotter: s, scratch }, defer) => {
      await s.prepare('a');
      const u1 = await s.upperDir('a');
      writeFileSync(join(u1, 'shared.txt'), 'from layer 1');
      writeFileSync(join(u1, 'only1.txt'), '1');
      await s.commit('l1', 'a');
      await s.prepare('b', 'l1');
      writeFileSync(join(await s.upperDir('b'), 'shared.txt'), 'from layer 2');
      await s.commit('l2', 'b');

      const rw = await s.prepare('ctr', 'l2');
      const target = join(scratch, 'rootfs');
      defer(mountAll(rw, target));
      assert.equal(readFileSync(join(target, 'shared.txt'), 'utf8'), 'from layer 2');
      assert.equal(readFileSync(join(target, 'only1.txt'), 'utf8'), '1');
      writeFileSync(join(target, 'new.txt'), 'container');
      // Writes land in the active snapshot only.
      assert.ok(existsSync(join(await s.upperDir('ctr'), 'new.txt')));
      assert.ok(!existsSync(join(await s.upperDir('l2'), 'new.txt')));

      const ro = await s.view('ro', 'l2');
      const viewTarget = join(scratch, 'view');
      defer(mountAll(ro, viewTarget));
      assert.equal(readFileSync(join(viewTarget, 'shared.txt'), 'utf8'), 'from layer 2');
      assert.throws(() => writeFileSync(join(viewTarget, 'x'), 'x'), { code: 'EROFS' });
    }));

    test('unpacked layers: whiteouts and opaque directories hide lower content', { skip: !isRoot && 'needs root to mount' }, withSnapshotter(async ({ snapshotter: s, scratch }, defer) => {
      const l1 = await layerTar([
        { name: 'a.txt', data: 'a' },
        { name: 'keep.txt', data: 'k' },
        { name: 'd/', type: 'directory' },
        { name: 'd/x', data: 'x' },
        { name: 'd/y', data: 'y' },
        { name: 'owned', data: 'o', uid: 1234, gid: 4321, mode: 0o640 },
      ]);
      const l2 = await layerTar([
        { name: '.wh.a.txt' },
        { name: 'd/', type: 'directory' },
        { name: 'd/.wh..wh..opq' },
        { name: 'd/z', data: 'z' },
        { name: 'keep.txt', data: 'k2' },
      ]);
      const d1 = 'sha256:' + '1'.repeat(64);
      const d2 = 'sha256:' + '2'.repeat(64);
      const first = await unpackLayer({ snapshotter: s, parentDiffIds: [], diffId: d1, open: () => Readable.from(l1) });
      const second = await unpackLayer({ snapshotter: s, parentDiffIds: [d1], diffId: d2, open: () => Readable.from(l2) });
      assert.ok(first.unpacked && second.unpacked);
      const target = join(scratch, 'rootfs');
      defer(mountAll(await s.prepare('ctr', second.chainId), target));
      assert.deepEqual(readdirSync(target).sort(), ['d', 'keep.txt', 'owned']);
      assert.deepEqual(readdirSync(join(target, 'd')), ['z']);
      assert.equal(readFileSync(join(target, 'keep.txt'), 'utf8'), 'k2');
      const st = statSync(join(target, 'owned'));
      assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [1234, 4321, 0o640]);
      // the first layer is untouched by the second
      const base = join(scratch, 'base');
      defer(mountAll(await s.view('v1', first.chainId), base));
      assert.deepEqual(readdirSync(join(base, 'd')).sort(), ['x', 'y']);
      assert.equal(readFileSync(join(base, 'a.txt'), 'utf8'), 'a');
    }));

    test('the changes of an active snapshot read as an overlay upper dir (for layers and docker diff)', { skip: !isRoot && 'needs root to mount' }, withSnapshotter(async ({ snapshotter: s, scratch }) => {
      await s.prepare('a');
      const u = await s.upperDir('a');
      writeFileSync(join(u, 'same.txt'), 'same');
      writeFileSync(join(u, 'changed.txt'), 'v1');
      writeFileSync(join(u, 'gone.txt'), 'x');
      mkdirSync(join(u, 'dir'));
      writeFileSync(join(u, 'dir', 'inner.txt'), 'i');
      await s.commit('l1', 'a');
      const target = join(scratch, 'rootfs');
      const unmount = mountAll(await s.prepare('ctr', 'l1'), target);
      try {
        writeFileSync(join(target, 'changed.txt'), 'v2 longer');
        rmSync(join(target, 'gone.txt'));
        writeFileSync(join(target, 'dir', 'added.txt'), 'new');
      } finally {
        unmount();
      }
      const diff = s.diff ? await s.diff('ctr') : { upper: await s.upperDir('ctr'), lowers: [] as string[], release: async () => undefined };
      try {
        assert.deepEqual(readdirSync(diff.upper).sort(), ['changed.txt', 'dir', 'gone.txt']);
        assert.equal(readFileSync(join(diff.upper, 'changed.txt'), 'utf8'), 'v2 longer');
        const wh = statSync(join(diff.upper, 'gone.txt'));
        assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'a deletion is an overlay whiteout');
        assert.deepEqual(readdirSync(join(diff.upper, 'dir')), ['added.txt']);
      } finally {
        await diff.release();
      }
    }));
  });
}

snapshotterSuite('OverlaySnapshotter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-snap-'));
  const db = new MetaDb(join(dir, 'meta.db'));
  const root = join(dir, 'snapshots');
  mkdirSync(root);
  const scratch = join(dir, 'mnt');
  return {
    snapshotter: new OverlaySnapshotter({ root, db }),
    root,
    scratch,
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

snapshotterSuite('VfsSnapshotter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-snap-'));
  const db = new MetaDb(join(dir, 'meta.db'));
  const root = join(dir, 'snapshots');
  mkdirSync(root);
  const scratch = join(dir, 'mnt');
  return {
    snapshotter: new VfsSnapshotter({ root, db }),
    root,
    scratch,
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('OverlaySnapshotter mounts', () => {
  test('active over layers is overlay with lowerdir top-first; base is a bind mount', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-snap-'));
    const db = new MetaDb(join(dir, 'meta.db'));
    try {
      const s = new OverlaySnapshotter({ root: join(dir, 'snapshots'), db });
      const [base] = await s.prepare('a');
      assert.equal(base.type, 'bind');
      assert.deepEqual(base.options, ['rbind', 'rw']);
      const l1 = await s.upperDir('a');
      await s.commit('l1', 'a');
      await s.prepare('b', 'l1');
      const l2 = await s.upperDir('b');
      await s.commit('l2', 'b');
      const [m] = await s.prepare('c', 'l2');
      assert.equal(m.type, 'overlay');
      const upper = await s.upperDir('c');
      assert.deepEqual(m.options, [`workdir=${join(upper, '..', 'work')}`, `upperdir=${upper}`, `lowerdir=${l2}:${l1}`]);
      const [v1] = await s.view('v1', 'l1');
      assert.deepEqual(v1, { type: 'bind', source: l1, options: ['rbind', 'ro'] });
      const [v2] = await s.view('v2', 'l2');
      assert.deepEqual(v2, { type: 'overlay', source: 'overlay', options: [`lowerdir=${l2}:${l1}`] });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
