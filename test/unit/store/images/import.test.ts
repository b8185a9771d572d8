import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { EventBus } from '../../../../src/lib/events.ts';
import { LocalContentStore } from '../../../../src/store/content/local.ts';
import { importRootfs } from '../../../../src/store/images/import.ts';
import { ImageStore } from '../../../../src/store/images/store.ts';
import { MetaDb } from '../../../../src/store/meta/db.ts';
import { OverlaySnapshotter } from '../../../../src/store/snapshots/overlay/overlay.ts';
import type { ImageServiceDeps, ImageUser } from '../../../../src/daemon/images/deps.ts';
import { createImageService, type ImageService } from '../../../../src/daemon/images/service.ts';
import { makeBusyboxRootfsTar } from '../../../helpers/busybox.ts';

/** Directory entries, [] when the directory was never created. */
const entries = (p: string): string[] => (existsSync(p) ? readdirSync(p) : []);
const NOW = new Date('2025-01-02T03:04:05.000Z');

describe('image import and image services', () => {
  let dir: string;
  let tarPath: string;
  let db: MetaDb;
  let deps: ImageServiceDeps;
  let svc: ImageService;
  let users: Map<string, ImageUser[]>;
  let prepares: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-import-'));
    tarPath = await makeBusyboxRootfsTar(join(dir, 'rootfs.tar'));
    db = new MetaDb(join(dir, 'meta.db'));
    const snapshots = new OverlaySnapshotter({ root: join(dir, 'snapshots'), db });
    prepares = 0;
    const prepare = snapshots.prepare.bind(snapshots);
    snapshots.prepare = (key, parent) => {
      prepares++;
      return prepare(key, parent);
    };
    users = new Map();
    deps = {
      db,
      content: new LocalContentStore({ root: join(dir, 'content'), db }),
      snapshots,
      images: new ImageStore({ db }),
      events: new EventBus(),
      containersUsingImage: (id) => users.get(id) ?? [],
    };
    svc = createImageService(deps);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const importer = () => ({ content: deps.content, snapshotter: deps.snapshots, images: deps.images });
  const body = (): Readable => createReadStream(tarPath);
  const importAs = (repo: string, tag = 'latest', changes: string[] = []) => svc.importImage({ fromSrc: '-', repo, tag, changes }, body());

  test('importing the same tar twice gives the same image, unpacked once', async () => {
    const a = await importRootfs(importer(), body(), { now: NOW, changes: ['CMD ["sh"]'] });
    const b = await importRootfs(importer(), Readable.from([gzipSync(readFileSync(tarPath))]), { now: NOW, changes: ['CMD ["sh"]'] });
    assert.equal(a.id, b.id);
    assert.equal(prepares, 1);
    const snaps = await deps.snapshots.list();
    assert.equal(snaps.length, 1);
    assert.equal(snaps[0].key, a.chainId);
    assert.equal(snaps[0].kind, 'committed');
    assert.deepEqual(a.config.config, { Cmd: ['sh'] });
    assert.equal(a.config.history?.[0].comment, 'Imported from -');
    assert.ok(a.size > 1_000_000);
    // The uncompressed layer is a blob whose digest is the diff ID; config and manifest are blobs too.
    assert.ok(await deps.content.has(a.config.rootfs.diff_ids[0]));
    assert.ok(await deps.content.has(a.id));
    assert.ok(a.manifestDigest && (await deps.content.has(a.manifestDigest)));
  });

  test('images with different configs share the layer; deleting keeps what the other uses', async () => {
    const a = await importAs('a');
    const b = await importAs('b', 'latest', ['ENV FOO=bar', 'LABEL x=1']);
    assert.notEqual(a, b);
    assert.equal(prepares, 1);
    assert.deepEqual(deps.images.get(b)!.config.config, { Env: ['FOO=bar'], Labels: { x: '1' } });

    assert.deepEqual(await svc.removeImage({ name: 'a' }), [{ Untagged: 'a:latest' }, { Deleted: a }]);
    assert.equal((await deps.snapshots.list()).length, 1);
    assert.equal(await deps.content.has(a), false);
    assert.ok(await deps.content.has(deps.images.get(b)!.config.rootfs.diff_ids[0]));

    await svc.removeImage({ name: 'b:latest' });
    assert.deepEqual(await deps.snapshots.list(), []);
    assert.deepEqual(readdirSync(join(dir, 'snapshots')), []);
    assert.deepEqual(await deps.content.list(), []);
  });

  test('list, tag, inspect and history shapes', async () => {
    const id = await importAs('docker.io/library/busybox', 'latest', ['CMD ["sh"]']);
    svc.tagImage({ name: 'busybox', repo: 'localhost:5000/x/busybox', tag: 'v1' });
    const [summary] = svc.listImages({});
    assert.deepEqual(Object.keys(summary).sort(), ['Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size', 'VirtualSize']);
    assert.equal(summary.Id, id);
    assert.deepEqual(summary.RepoTags, ['busybox:latest', 'localhost:5000/x/busybox:v1']);
    assert.equal(summary.RepoDigests, null);
    assert.equal(summary.Containers, -1);

    const inspect = await svc.inspectImage(id.slice(7, 12));
    assert.equal(inspect.Id, id);
    assert.deepEqual(inspect.Config.Cmd, ['sh']);
    assert.equal(inspect.Config.Env, null);
    assert.equal(inspect.Comment, 'Imported from -');
    assert.equal(inspect.GraphDriver.Name, 'overlay2');
    assert.match(inspect.GraphDriver.Data!.UpperDir, /\/fs$/);
    assert.equal(inspect.RootFS.Layers.length, 1);
    assert.notEqual(inspect.Metadata.LastTagTime, '0001-01-01T00:00:00Z');

    const [h] = await svc.imageHistory('busybox:latest');
    assert.equal(h.Id, id);
    assert.equal(h.Comment, 'Imported from -');
    assert.deepEqual(h.Tags, ['busybox:latest', 'localhost:5000/x/busybox:v1']);
    assert.equal(h.Size, inspect.Size);

    await assert.rejects(svc.inspectImage('nope'), { kind: 'NotFound', message: 'No such image: nope' });
    assert.throws(() => svc.tagImage({ name: 'busybox', repo: 'Bad' }), { kind: 'InvalidParameter' });
  });

  test('resolution prefers an exact reference over an ID prefix', async () => {
    const id = await importAs('x');
    const prefix = id.slice(7, 9);
    const other = await importAs(prefix, 'latest', ['CMD ["other"]']);
    assert.equal((await deps.images.resolve(prefix)).id, other);
    assert.equal((await deps.images.resolve(id)).id, id);
    assert.equal((await deps.images.resolve(id.slice(7))).id, id);
  });

  test('remove: untag while references remain, conflicts by ID, force', async () => {
    const id = await importAs('one');
    svc.tagImage({ name: 'one', repo: 'two' });
    const short = id.slice(7, 19);
    assert.deepEqual(await svc.removeImage({ name: 'two' }), [{ Untagged: 'two:latest' }]);
    svc.tagImage({ name: 'one', repo: 'two' });
    await assert.rejects(svc.removeImage({ name: short }), {
      kind: 'Conflict',
      message: `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`,
    });
    const records = await svc.removeImage({ name: short, force: true });
    assert.deepEqual(records, [{ Untagged: 'one:latest' }, { Untagged: 'two:latest' }, { Deleted: id }]);
    assert.deepEqual(svc.listImages({}), []);
    await assert.rejects(svc.removeImage({ name: 'one' }), { kind: 'NotFound', message: 'No such image: one' });
  });

  test('remove: images used by containers', async () => {
    const id = await importAs('busybox');
    const short = id.slice(7, 19);
    users.set(id, [{ id: 'c'.repeat(64), running: false }]);
    await assert.rejects(svc.removeImage({ name: 'busybox' }), {
      kind: 'Conflict',
      message: `conflict: unable to remove repository reference "busybox" (must force) - container cccccccccccc is using its referenced image ${short}`,
    });
    await assert.rejects(svc.removeImage({ name: id }), {
      message: `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container cccccccccccc`,
    });
    // Forcing a reference untags it, but the image stays for the container (dangling).
    assert.deepEqual(await svc.removeImage({ name: 'busybox', force: true }), [{ Untagged: 'busybox:latest' }]);
    assert.ok(deps.images.get(id));
    users.set(id, [{ id: 'd'.repeat(64), running: true }]);
    await assert.rejects(svc.removeImage({ name: short, force: true }), {
      message: `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container dddddddddddd`,
    });
    users.clear();
    assert.deepEqual(await svc.removeImage({ name: short }), [{ Deleted: id }]);
  });

  test('list filters: dangling, reference, label, before/since', async () => {
    const first = await importAs('busybox', 'latest', ['LABEL tier=base']);
    const second = await importAs('other/app', 'v1', ['CMD ["app"]']);
    // Re-pointing a tag leaves the old image dangling.
    const third = await importAs('other/app', 'v1', ['CMD ["app2"]']);
    const ids = (filters: object) => svc.listImages({ filters: JSON.stringify(filters) }).map((i) => i.Id);

    const dangling = svc.listImages({ filters: JSON.stringify({ dangling: { true: true } }) });
    assert.deepEqual(dangling.map((i) => i.Id), [second]);
    assert.deepEqual(dangling[0].RepoTags, ['<none>:<none>']);
    assert.deepEqual(dangling[0].RepoDigests, ['<none>@<none>']);
    assert.deepEqual(new Set(ids({ dangling: { false: true } })), new Set([first, third]));
    assert.deepEqual(ids({ reference: { 'busy*': true } }), [first]);
    assert.deepEqual(ids({ reference: { 'busybox:lat*': true } }), [first]);
    assert.deepEqual(ids({ reference: { 'other/*:v1': true } }), [third]);
    assert.deepEqual(ids({ label: { 'tier=base': true } }), [first]);
    assert.deepEqual(ids({ label: { tier: true } }), [first]);
    assert.deepEqual(new Set(ids({ before: { 'other/app:v1': true } })), new Set([first, second]));
    assert.deepEqual(new Set(ids({ since: { busybox: true } })), new Set([second, third]));

    assert.throws(() => svc.listImages({ filters: '{"bogus":{"x":true}}' }), { kind: 'InvalidParameter' });
    assert.throws(() => svc.listImages({ filters: '{"since":{"nope":true}}' }), { kind: 'NotFound' });
  });

  test('import events: tag then import', async () => {
    const id = await importAs('busybox');
    const evs = deps.events.recent().map((e) => [e.Action, e.Actor.ID, e.Actor.Attributes.name]);
    assert.deepEqual(evs, [['tag', id, 'busybox:latest'], ['import', id, id]]);
    await svc.removeImage({ name: 'busybox' });
    assert.deepEqual(deps.events.recent().slice(2).map((e) => e.Action), ['untag', 'delete']);
  });

  test('a broken tarball leaves no snapshot, no row', async () => {
    const gz = gzipSync(readFileSync(tarPath));
    await assert.rejects(svc.importImage({ fromSrc: '-', repo: 'broken' }, Readable.from([gz.subarray(0, gz.length / 2)])));
    assert.deepEqual(svc.listImages({}), []);
    assert.deepEqual(await deps.snapshots.list(), []);
    assert.deepEqual(entries(join(dir, 'snapshots')), []);

    const garbage = Buffer.alloc(1024, 7); // not a tar at all
    await assert.rejects(svc.importImage({ fromSrc: '-', repo: 'broken' }, Readable.from([garbage])));
    assert.deepEqual(entries(join(dir, 'snapshots')), []);
    assert.deepEqual(db.all('SELECT * FROM images'), []);
  });

  test('import arguments are validated before reading the body', () => {
    assert.throws(() => svc.checkImport({ fromSrc: '-', repo: 'Bad' }), { kind: 'InvalidParameter' });
    assert.throws(() => svc.checkImport({ fromSrc: '-', repo: 'x@sha256:' + 'a'.repeat(64) }), { message: 'cannot import digest reference' });
    assert.throws(() => svc.checkImport({ fromSrc: 'http://example.invalid/x.tar' }), { kind: 'NotImplemented' });
    assert.throws(() => svc.checkImport({ fromSrc: '-', repo: 'x', changes: [] , tag: 'bad tag' }), { kind: 'InvalidParameter' });
  });
});
