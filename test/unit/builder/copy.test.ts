import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DirView, LayerView, resolveInView } from '../../../src/builder/fs.ts';
import { checksumEntries, planCopy, type LayerEntry } from '../../../src/builder/copy.ts';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-copy-'));
  for (const [rel, content] of Object.entries(files)) {
    if (rel.endsWith('/')) {
      mkdirSync(join(dir, rel), { recursive: true });
      continue;
    }
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    if (content.startsWith('->')) symlinkSync(content.slice(2), join(dir, rel));
    else writeFileSync(join(dir, rel), content);
  }
  return dir;
}

const paths = (entries: LayerEntry[]): string[] => entries.map((e) => `${e.path}${e.type === 'dir' ? '/' : ''}${e.existing ? ' (existing)' : ''}`);
const base = { now: new Date(0), keyword: 'COPY' };

test('LayerView merges layers top first; a whiteout hides lower entries; a file hides a lower directory', async () => {
  const lower = tree({ 'etc/a': 'lower a', 'etc/b': 'lower b', 'opt/x/y': 'deep' });
  const upper = tree({ 'etc/a': 'upper a', opt: 'now a file' });
  try {
    // overlay's whiteout is a char device 0:0: mknod needs root, so that part is checked only as root
    const mk = spawnSync('mknod', [join(upper, 'etc/b'), 'c', '0', '0']);
    const v = new LayerView([upper, lower]);
    assert.equal((await v.lstat(['etc', 'a']))?.hostPath, join(upper, 'etc/a'));
    if (mk.status === 0) {
      assert.equal(await v.lstat(['etc', 'b']), undefined);
      assert.deepEqual(await v.readdir(['etc']), ['a']);
    }
    assert.equal((await v.lstat(['opt']))?.type, 'file');
    assert.equal(await v.lstat(['opt', 'x', 'y']), undefined);
  } finally {
    rmSync(lower, { recursive: true, force: true });
    rmSync(upper, { recursive: true, force: true });
  }
});

test('resolveInView follows symlinks as if the view root were /', async () => {
  const dir = tree({ 'real/file': 'x', 'abs': '->/real', 'rel': '->../../../real', 'loop': '->loop' });
  try {
    const v = new DirView(dir);
    assert.deepEqual(await resolveInView(v, ['abs', 'file']), ['real', 'file']);
    assert.deepEqual(await resolveInView(v, ['rel', 'file']), ['real', 'file']);
    await assert.rejects(resolveInView(v, ['loop', 'x']), /too many levels/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('planCopy: a directory copies its contents; a file into a dir keeps its name; wildcards; existing parents keep metadata', async () => {
  const ctx = tree({ 'src/a.txt': 'a', 'src/b.txt': 'b', 'src/c.md': 'c', 'dir/sub/f': 'f' });
  const img = tree({ 'usr/': '' });
  try {
    const from = new DirView(ctx);
    const into = new LayerView([img]);
    assert.deepEqual(paths(await planCopy({ ...base, sources: [{ path: 'dir' }], dest: '/opt/d', from, into })), ['opt/', 'opt/d/', 'opt/d/sub/', 'opt/d/sub/f']);
    assert.deepEqual(paths(await planCopy({ ...base, sources: [{ path: 'src/a.txt' }], dest: '/usr/', from, into })), ['usr/ (existing)', 'usr/a.txt']);
    assert.deepEqual(paths(await planCopy({ ...base, sources: [{ path: 'src/a.txt' }], dest: '/usr/renamed', from, into })), ['usr/ (existing)', 'usr/renamed']);
    assert.deepEqual(paths(await planCopy({ ...base, sources: [{ path: 'src/*.txt' }], dest: '/t/', from, into })), ['t/', 't/a.txt', 't/b.txt']);
    await assert.rejects(planCopy({ ...base, sources: [{ path: 'src/*.txt' }], dest: '/t', from, into }), /must be a directory and end with a \//);
    await assert.rejects(planCopy({ ...base, sources: [{ path: 'nope' }], dest: '/t', from, into }), /file not found in build context/);
    const owned = await planCopy({ ...base, sources: [{ path: 'src/a.txt' }], dest: '/new/x', from, into, owner: { uid: 7, gid: 8 }, chmod: 0o600 });
    assert.deepEqual(owned.map((e) => [e.path, e.uid, e.gid, e.mode.toString(8)]), [
      ['new', 7, 8, '755'],
      ['new/x', 7, 8, '600'],
    ]);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
    rmSync(img, { recursive: true, force: true });
  }
});

test('checksumEntries: content and mode count, modification times do not', async () => {
  const ctx = tree({ 'f.txt': 'one' });
  const img = tree({});
  try {
    const plan = () => planCopy({ ...base, sources: [{ path: 'f.txt' }], dest: '/f.txt', from: new DirView(ctx), into: new LayerView([img]) });
    const first = await checksumEntries(await plan());
    spawnSync('touch', ['-d', '2001-01-01', join(ctx, 'f.txt')]);
    assert.equal(await checksumEntries(await plan()), first, 'touch keeps the checksum');
    writeFileSync(join(ctx, 'f.txt'), 'two');
    assert.notEqual(await checksumEntries(await plan()), first, 'new content changes it');
  } finally {
    rmSync(ctx, { recursive: true, force: true });
    rmSync(img, { recursive: true, force: true });
  }
});
