import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import tar from 'tar-stream';
import { openRootDir, resolveScoped } from '../../../../src/lib/scopedfs.ts';
import { extractScoped } from '../../../../src/store/diff/extract.ts';

type Spec = { name: string; data?: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; mode?: number };

async function tarOf(entries: Spec[]): Promise<Readable> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  for (const { data, ...h } of entries) {
    await new Promise<void>((res, rej) => pack.entry({ mode: h.type === 'directory' ? 0o755 : 0o644, mtime: new Date('2020-01-01T00:00:00Z'), ...h }, data ?? '', (e) => (e ? rej(e) : res())));
  }
  pack.finalize();
  await done;
  return Readable.from([Buffer.concat(out)]);
}

describe('extractScoped / resolveScoped (docker cp into a hostile rootfs)', () => {
  let base: string;
  let rootfs: string;
  let outside: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-extract-'));
    rootfs = join(base, 'rootfs');
    outside = join(base, 'outside');
    mkdirSync(join(rootfs, 'tmp'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'secret');
    // What a container could plant.
    symlinkSync('/', join(rootfs, 'escape'));
    symlinkSync('../../../../../../../..', join(rootfs, 'tmp/up'));
    symlinkSync(outside, join(rootfs, 'abs'));
    symlinkSync(`../../../../../../..${outside}`, join(rootfs, 'deep'));
    symlinkSync('loop2', join(rootfs, 'loop1'));
    symlinkSync('loop1', join(rootfs, 'loop2'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const outsideUntouched = (): void => {
    assert.deepEqual(readdirSync(outside), ['secret']);
    assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'secret');
    assert.deepEqual(readdirSync(base).sort(), ['outside', 'rootfs']);
  };

  test('resolution stays inside: /escape, ../ chains and absolute links all lead back into the rootfs', async () => {
    const root = await openRootDir(rootfs);
    try {
      for (const [p, expected] of [
        ['/escape/tmp', '/tmp'],
        ['/tmp/up/tmp', '/tmp'],
        ['/escape/escape/../../../tmp', '/tmp'],
      ] as const) {
        const t = await resolveScoped(root, p, { followLast: true });
        assert.equal(t.path, expected, p);
        if (t.dir !== root) await t.dir.close();
      }
      // An absolute link to a host path means that path inside the rootfs, where it does not exist.
      await assert.rejects(resolveScoped(root, '/abs', { followLast: true }), { kind: 'NotFound' });
      await assert.rejects(resolveScoped(root, '/abs/secret'), { kind: 'NotFound' });
      await assert.rejects(resolveScoped(root, '/deep/secret'), { kind: 'NotFound' });
      await assert.rejects(resolveScoped(root, '/loop1/x'), { kind: 'InvalidParameter' });
    } finally {
      await root.close();
    }
  });

  test('extracting through planted links writes only inside the rootfs', async () => {
    const root = await openRootDir(rootfs);
    try {
      await extractScoped(root, '/escape/tmp', await tarOf([{ name: 'a.txt', data: 'A' }]));
      assert.equal(readFileSync(join(rootfs, 'tmp/a.txt'), 'utf8'), 'A');
      await extractScoped(root, '/tmp/up/tmp', await tarOf([{ name: 'b.txt', data: 'B' }]));
      assert.equal(readFileSync(join(rootfs, 'tmp/b.txt'), 'utf8'), 'B');
      // The destination exists on the host but not in the container: not found, nothing written.
      await assert.rejects(extractScoped(root, '/abs', await tarOf([{ name: 'pwned', data: 'x' }])), { kind: 'NotFound' });
      await assert.rejects(extractScoped(root, '/deep', await tarOf([{ name: 'pwned', data: 'x' }])), { kind: 'NotFound' });
      // Entries that walk through links in the tree are resolved inside it too.
      await extractScoped(root, '/', await tarOf([{ name: 'escape/tmp/c.txt', data: 'C' }, { name: 'tmp/up/tmp/d.txt', data: 'D' }]));
      assert.equal(readFileSync(join(rootfs, 'tmp/c.txt'), 'utf8'), 'C');
      assert.equal(readFileSync(join(rootfs, 'tmp/d.txt'), 'utf8'), 'D');
      // An entry named like a planted link replaces the link, it never writes through it.
      await extractScoped(root, '/', await tarOf([{ name: 'abs', data: 'replaced' }]));
      assert.ok(lstatSync(join(rootfs, 'abs')).isFile());
      // A symlink entry followed by a file "under" it: the file lands inside.
      await extractScoped(root, '/', await tarOf([{ name: 'lnk', type: 'symlink', linkname: outside }, { name: 'lnk/pwned', data: 'x' }])).catch(() => undefined);
      assert.equal(readlinkSync(join(rootfs, 'lnk')), outside);
      await assert.rejects(extractScoped(root, '/', await tarOf([{ name: '../pwned', data: 'x' }])), { kind: 'InvalidParameter' });
      outsideUntouched();
    } finally {
      await root.close();
    }
  });

  test('modes, times, hardlinks and ownership; noOverwriteDirNonDir', async () => {
    const root = await openRootDir(rootfs);
    try {
      await extractScoped(root, '/tmp', await tarOf([
        { name: 'd', type: 'directory', mode: 0o750 },
        { name: 'd/f', data: 'x', mode: 0o4755 },
        { name: 'd/h', type: 'link', linkname: 'd/f' },
      ]), { owner: { uid: 0, gid: 0 } });
      assert.equal(statSync(join(rootfs, 'tmp/d')).mode & 0o7777, 0o750);
      assert.equal(statSync(join(rootfs, 'tmp/d/f')).mode & 0o7777, 0o4755);
      assert.equal(statSync(join(rootfs, 'tmp/d/f')).mtime.toISOString(), '2020-01-01T00:00:00.000Z');
      assert.equal(statSync(join(rootfs, 'tmp/d')).mtime.toISOString(), '2020-01-01T00:00:00.000Z');
      assert.equal(statSync(join(rootfs, 'tmp/d/h')).ino, statSync(join(rootfs, 'tmp/d/f')).ino);
      await assert.rejects(extractScoped(root, '/tmp', await tarOf([{ name: 'd', data: 'file over dir' }]), { noOverwriteDirNonDir: true }), { kind: 'Conflict' });
      assert.ok(statSync(join(rootfs, 'tmp/d')).isDirectory());
    } finally {
      await root.close();
    }
  });
});
