import assert from 'node:assert/strict';
import { lstatSync, lutimesSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { diffTrees } from '../../../../src/store/snapshots/vfs/diff.ts';

const isRoot = process.getuid?.() === 0;
const T = new Date('2020-01-01T00:00:00Z');

/** A parent tree and an identical copy (same times) to change. */
function fixture(): { base: string; parent: string; tree: string; out: string } {
  const base = mkdtempSync(join(tmpdir(), 'berth-vfsdiff-'));
  const parent = join(base, 'parent');
  const tree = join(base, 'tree');
  const out = join(base, 'out');
  for (const root of [parent, tree]) {
    mkdirSync(join(root, 'dir', 'sub'), { recursive: true });
    writeFileSync(join(root, 'same.txt'), 'same');
    writeFileSync(join(root, 'edit.txt'), 'v1');
    writeFileSync(join(root, 'gone.txt'), 'x');
    writeFileSync(join(root, 'dir', 'sub', 'deep.txt'), 'd');
    writeFileSync(join(root, 'becomes-dir'), 'f');
    symlinkSync('same.txt', join(root, 'link'));
    for (const p of ['same.txt', 'edit.txt', 'gone.txt', 'dir/sub/deep.txt', 'becomes-dir', 'dir/sub', 'dir']) utimesSync(join(root, p), T, T);
    lutimesSync(join(root, 'link'), T, T);
  }
  mkdirSync(out);
  return { base, parent, tree, out };
}

test('vfs diff: unchanged entries are left out; changes hardlinked; deletions whited out; type changes replace', { skip: !isRoot && 'whiteouts need mknod (root)' }, async () => {
  const { base, parent, tree, out } = fixture();
  try {
    writeFileSync(join(tree, 'edit.txt'), 'v2, longer');
    rmSync(join(tree, 'gone.txt'));
    rmSync(join(tree, 'dir', 'sub'), { recursive: true });
    utimesSync(join(tree, 'dir'), T, T);
    rmSync(join(tree, 'becomes-dir'));
    mkdirSync(join(tree, 'becomes-dir'));
    writeFileSync(join(tree, 'becomes-dir', 'inside'), 'i');
    rmSync(join(tree, 'link'));
    symlinkSync('edit.txt', join(tree, 'link'));
    writeFileSync(join(tree, 'new.txt'), 'n');
    await diffTrees(tree, parent, out);
    assert.deepEqual(readdirSync(out).sort(), ['becomes-dir', 'dir', 'edit.txt', 'gone.txt', 'link', 'new.txt']);
    assert.equal(statSync(join(out, 'edit.txt')).ino, statSync(join(tree, 'edit.txt')).ino, 'hardlinked, not copied');
    const wh = lstatSync(join(out, 'gone.txt'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
    assert.deepEqual(readdirSync(join(out, 'dir')), ['sub']);
    assert.ok(lstatSync(join(out, 'dir', 'sub')).isCharacterDevice(), 'a deleted directory is one whiteout');
    assert.equal(readFileSync(join(out, 'becomes-dir', 'inside'), 'utf8'), 'i');
    assert.equal(readlinkSync(join(out, 'link')), 'edit.txt');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('vfs diff: without a parent everything is new; identical trees give an empty diff', async () => {
  const { base, parent, tree, out } = fixture();
  try {
    await diffTrees(tree, parent, out);
    assert.deepEqual(readdirSync(out), []);
    const all = join(base, 'all');
    mkdirSync(all);
    await diffTrees(tree, undefined, all);
    assert.deepEqual(readdirSync(all).sort(), ['becomes-dir', 'dir', 'edit.txt', 'gone.txt', 'link', 'same.txt']);
    assert.equal(readFileSync(join(all, 'dir', 'sub', 'deep.txt'), 'utf8'), 'd');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
