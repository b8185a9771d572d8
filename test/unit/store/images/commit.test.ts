import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import tar from 'tar-stream';
import { chainId } from '../../../../src/lib/digest.ts';
import { LocalContentStore } from '../../../../src/store/content/local.ts';
import { commitLayer, type CommitDeps } from '../../../../src/store/images/commit.ts';
import { importRootfs } from '../../../../src/store/images/import.ts';
import { ImageStore } from '../../../../src/store/images/store.ts';
import { MetaDb } from '../../../../src/store/meta/db.ts';
import { OverlaySnapshotter } from '../../../../src/store/snapshots/overlay/overlay.ts';
import type { ImageManifest } from '../../../../src/types/oci.ts';

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  for (const [name, data] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, data);
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

describe('commitLayer (a layer on top of an image → a new image)', () => {
  let dir: string;
  let db: MetaDb;
  let deps: CommitDeps & { snapshotter: OverlaySnapshotter };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-commit-'));
    db = new MetaDb(join(dir, 'meta.db'));
    deps = {
      content: new LocalContentStore({ root: join(dir, 'content'), db }),
      snapshotter: new OverlaySnapshotter({ root: join(dir, 'snapshots'), db }),
      images: new ImageStore({ db }),
    };
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = async () => importRootfs(deps, Readable.from([await tarOf({ 'etc/os': 'base\n' })]), { refs: ['docker.io/library/base:latest'], changes: ['CMD ["sh"]'] });

  test('consume (a builder RUN step): the active snapshot becomes the layer; config, history, manifest, chain ID', async () => {
    const parent = await base();
    await deps.snapshotter.prepare('run-1', parent.chainId);
    const upper = await deps.snapshotter.upperDir('run-1');
    mkdirSync(join(upper, 'app'));
    writeFileSync(join(upper, 'app/main'), 'hello');
    const { image, diffId, chainId: chain } = await commitLayer(deps, {
      parent,
      snapshotKey: 'run-1',
      consume: true,
      config: { ...parent.config.config, Env: ['A=1'] },
      history: { created_by: '/bin/sh -c make' },
      refs: ['docker.io/library/built:latest'],
      sourceDateEpoch: 1_000_000,
    });
    assert.ok(diffId);
    assert.equal(chain, chainId([...parent.config.rootfs.diff_ids, diffId]));
    assert.equal(await deps.snapshotter.stat('run-1'), undefined, 'the active snapshot was consumed');
    const snap = await deps.snapshotter.stat(chain);
    assert.equal(snap?.kind, 'committed');
    assert.equal(snap?.parent, parent.chainId);
    assert.equal(readFileSync(join(await deps.snapshotter.upperDir(chain), 'app/main'), 'utf8'), 'hello');
    assert.deepEqual(image.config.rootfs.diff_ids, [...parent.config.rootfs.diff_ids, diffId]);
    assert.deepEqual(image.config.config, { Cmd: ['sh'], Env: ['A=1'] });
    assert.equal(image.config.created, new Date(1_000_000_000).toISOString());
    assert.equal(image.config.history!.length, 2);
    assert.equal(image.config.history![1].created_by, '/bin/sh -c make');
    assert.equal(image.parent, parent.id);
    assert.equal(image.chainId, chain);
    assert.deepEqual(image.refs, ['docker.io/library/built:latest']);
    assert.ok(await deps.content.has(diffId));
    const manifest = JSON.parse((await deps.content.readBytes(image.manifestDigest!)).toString()) as ImageManifest;
    assert.deepEqual(manifest.layers.map((l) => l.digest), image.config.rootfs.diff_ids);
    assert.equal(manifest.config.digest, image.id);
  });

  test('reproducible: the same change with SOURCE_DATE_EPOCH gives the same image ID', async () => {
    const parent = await base();
    const ids: string[] = [];
    for (const key of ['a', 'b']) {
      await deps.snapshotter.prepare(key, parent.chainId);
      writeFileSync(join(await deps.snapshotter.upperDir(key), 'f'), 'same');
      const { image } = await commitLayer(deps, { parent, snapshotKey: key, consume: true, config: {}, history: { created_by: 'x' }, sourceDateEpoch: 42 });
      ids.push(image.id);
    }
    assert.equal(ids[0], ids[1]);
    assert.equal((await deps.snapshotter.list()).filter((s) => s.kind === 'active').length, 0, 'the second, identical layer reused the first snapshot');
  });

  test('an empty diff adds no layer, only an empty_layer history entry; copy mode leaves the snapshot', async () => {
    const parent = await base();
    await deps.snapshotter.prepare('ctr', parent.chainId);
    const { image, diffId } = await commitLayer(deps, { parent, snapshotKey: 'ctr', consume: false, config: { Cmd: ['true'] }, history: { created_by: 'true' } });
    assert.equal(diffId, undefined);
    assert.deepEqual(image.config.rootfs.diff_ids, parent.config.rootfs.diff_ids);
    assert.equal(image.chainId, parent.chainId);
    assert.equal(image.config.history!.at(-1)!.empty_layer, true);
    assert.equal((await deps.snapshotter.stat('ctr'))?.kind, 'active');
  });
});
