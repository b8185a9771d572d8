import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { applyLayer } from '../../../../src/store/diff/apply.ts';

type EntrySpec = Partial<tar.Header> & { name: string; data?: string };

/** A tar archive in memory. */
async function makeTar(entries: EntrySpec[]): Promise<Buffer> {
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

const isRoot = process.getuid?.() === 0;

describe('applyLayer', () => {
  let base: string;
  let dir: string;
  let outside: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-apply-'));
    dir = join(base, 'layer');
    outside = join(base, 'outside');
    mkdirSync(dir);
    mkdirSync(outside);
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });
  const assertOutsideUntouched = (): void => {
    assert.deepEqual(readdirSync(outside), [], 'nothing may be written outside the layer');
    assert.deepEqual(readdirSync(base).sort(), ['layer', 'outside']);
  };

  test('files, dirs, symlinks, hardlinks, fifos with modes, owners and times', async () => {
    const t = await makeTar([
      { name: './', type: 'directory' },
      { name: 'etc/', type: 'directory', mode: 0o750, uid: 1, gid: 2 },
      { name: 'etc/passwd', data: 'root:x:0:0\n', mode: 0o640, uid: 1000, gid: 1001, mtime: new Date('2021-02-03T04:05:06Z') },
      { name: 'bin/tool', data: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'bin/link', type: 'symlink', linkname: 'tool' },
      { name: 'bin/hard', type: 'link', linkname: 'bin/tool' },
      { name: 'run/fifo', type: 'fifo', mode: 0o600 },
    ]);
    const { size } = await applyLayer(Readable.from([t]), dir);
    assert.equal(size, 'root:x:0:0\n'.length + '#!/bin/sh\n'.length);
    const passwd = statSync(join(dir, 'etc/passwd'));
    assert.equal(readFileSync(join(dir, 'etc/passwd'), 'utf8'), 'root:x:0:0\n');
    assert.equal(passwd.mode & 0o7777, 0o640);
    assert.equal(passwd.mtime.toISOString(), '2021-02-03T04:05:06.000Z');
    if (isRoot) {
      assert.equal(passwd.uid, 1000);
      assert.equal(passwd.gid, 1001);
      assert.equal(statSync(join(dir, 'etc')).uid, 1);
      assert.equal(statSync(join(dir, 'bin/tool')).mode & 0o7777, 0o4755); // setuid survives chown
    }
    assert.equal(statSync(join(dir, 'etc')).mode & 0o7777, 0o750);
    assert.equal(statSync(join(dir, 'etc')).mtime.toISOString(), '2020-01-01T00:00:00.000Z');
    assert.equal(readlinkSync(join(dir, 'bin/link')), 'tool');
    assert.equal(statSync(join(dir, 'bin/hard')).ino, statSync(join(dir, 'bin/tool')).ino);
    assert.ok(lstatSync(join(dir, 'run/fifo')).isFIFO());
  });

  test('gzip and zstd layers are detected', async () => {
    const t = await makeTar([{ name: 'f', data: 'compressed' }]);
    await applyLayer(Readable.from([gzipSync(t)]), dir);
    assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'compressed');
    rmSync(join(dir, 'f'));
    await applyLayer(Readable.from([zstdCompressSync(t)]), dir);
    assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'compressed');
  });

  test('whiteouts become overlay whiteouts and opaque markers', { skip: !isRoot && 'mknod and trusted.* xattrs need root' }, async () => {
    const t = await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.motd', data: '' },
      { name: 'var/cache/', type: 'directory' },
      { name: 'var/cache/.wh..wh..opq', data: '' },
      { name: 'var/cache/new', data: 'n' },
      { name: '.wh..wh.plnk', data: '' },
    ]);
    await applyLayer(Readable.from([t]), dir);
    const wh = lstatSync(join(dir, 'etc/motd'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.ok(!existsSync(join(dir, 'etc/.wh.motd')));
    const opaque = execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(dir, 'var/cache')], { encoding: 'utf8' });
    assert.equal(opaque, 'y');
    assert.deepEqual(readdirSync(join(dir, 'var/cache')), ['new']);
    assert.deepEqual(readdirSync(dir).sort(), ['etc', 'var']);
  });

  test('a `..` entry is rejected and writes nothing outside', async () => {
    const t = await makeTar([{ name: '../outside/pwned', data: 'x' }]);
    await assert.rejects(applyLayer(Readable.from([t]), dir), { kind: 'InvalidParameter' });
    const t2 = await makeTar([{ name: 'a/../../outside/pwned', data: 'x' }]);
    await assert.rejects(applyLayer(Readable.from([t2]), dir), { kind: 'InvalidParameter' });
    assertOutsideUntouched();
  });

  test('absolute entry names stay inside', async () => {
    const t = await makeTar([{ name: '/abs/file', data: 'x' }]);
    await applyLayer(Readable.from([t]), dir);
    assert.equal(readFileSync(join(dir, 'abs/file'), 'utf8'), 'x');
    assertOutsideUntouched();
  });

  test('hostile symlinks cannot redirect writes outside', async () => {
    const t = await makeTar([
      { name: 'abs', type: 'symlink', linkname: outside },
      { name: 'abs/pwned1', data: 'x' },
      { name: 'rel', type: 'symlink', linkname: '../../../../../..' + outside },
      { name: 'rel/pwned2', data: 'x' },
      { name: 'up', type: 'symlink', linkname: '../outside' },
      { name: 'up/sub/pwned3', data: 'x' },
      { name: 'loop', type: 'symlink', linkname: 'loop' },
      // A file entry over a symlink replaces the link; it must not write through it.
      { name: 'over', type: 'symlink', linkname: join(outside, 'pwned4') },
      { name: 'over', data: 'replaced' },
    ]);
    await applyLayer(Readable.from([t]), dir);
    assertOutsideUntouched();
    // Followed in scope: the writes landed under the layer root.
    assert.equal(readFileSync(join(dir, outside, 'pwned1'), 'utf8'), 'x');
    assert.equal(readFileSync(join(dir, outside, 'pwned2'), 'utf8'), 'x');
    assert.equal(readFileSync(join(dir, 'outside/sub/pwned3'), 'utf8'), 'x');
    assert.ok(lstatSync(join(dir, 'over')).isFile());
  });

  test('a directory replaced later in the same layer is resolved again (no stale shortcut)', async () => {
    const t = await makeTar([
      { name: 'a/', type: 'directory' },
      { name: 'a/x', data: 'x' },
      { name: 'a', type: 'symlink', linkname: outside },
      { name: 'a/y', data: 'y' },
      { name: 'b/c/', type: 'directory' },
      { name: 'b/c/f', data: 'f' },
      { name: 'b/.wh.c', data: '' },
      { name: 'b/c/g', data: 'g' },
      { name: 'd/e/', type: 'directory' },
      { name: 'd', data: 'now a file' },
      { name: 'd/e/h', data: 'h' },
    ]);
    await assert.rejects(applyLayer(Readable.from([t]), dir, { whiteouts: 'delete' }));
    assertOutsideUntouched();
    assert.ok(lstatSync(join(dir, 'a')).isSymbolicLink());
    assert.equal(readFileSync(join(dir, outside, 'y'), 'utf8'), 'y', 'followed in scope');
    assert.deepEqual(readdirSync(join(dir, 'b/c')), ['g'], 'the whiteout removed c; c was made again for g');
    assert.ok(lstatSync(join(dir, 'd')).isFile(), 'd/e/h cannot go through the file that replaced d');
  });

  test('symlink loops are rejected', async () => {
    const t = await makeTar([
      { name: 'loop', type: 'symlink', linkname: 'loop' },
      { name: 'loop/x', data: 'x' },
    ]);
    await assert.rejects(applyLayer(Readable.from([t]), dir), { kind: 'InvalidParameter', message: /too many levels/ });
    assertOutsideUntouched();
  });

  test('hardlinks cannot reach outside the layer', async () => {
    const secret = join(outside, 'secret');
    const t1 = await makeTar([{ name: 'h', type: 'link', linkname: '../outside/secret' }]);
    await assert.rejects(applyLayer(Readable.from([t1]), dir), { kind: 'InvalidParameter' });
    // Through a symlink: resolved in scope, so it looks for <layer><outside>/secret, which does not exist.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(secret, 'top secret');
    const t2 = await makeTar([
      { name: 'l', type: 'symlink', linkname: outside },
      { name: 'h', type: 'link', linkname: 'l/secret' },
    ]);
    await assert.rejects(applyLayer(Readable.from([t2]), dir), { kind: 'InvalidParameter', message: /invalid hardlink/ });
    assert.equal(statSync(secret).nlink, 1);
    assert.ok(!existsSync(join(dir, 'h')));
  });
});
