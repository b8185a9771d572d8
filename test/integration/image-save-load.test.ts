// docker save / load against berthd: round trip with the same ID, docker load of a berth archive,
// berth load of a docker-saved archive, the legacy (20.10) layout, a plain OCI layout, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { useDaemon, docker, berth, listDir } from '../helpers/daemon.ts';

const daemon = useDaemon();
const dir = mkdtempSync(join(tmpdir(), 'berth-saveload-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

async function imageId(ref: string): Promise<string> {
  return (await docker(daemon(), ['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
}

async function readTar(path: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      out.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  const { createReadStream } = await import('node:fs');
  await pipeline(createReadStream(path), extract);
  await done;
  return out;
}

async function writeTar(path: string, files: Array<[string, Buffer]>): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(path));
  for (const [name, data] of files) pack.entry({ name, size: data.length }, data);
  pack.finalize();
  await done;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('berth save -o then berth load -i round-trips busybox with the same ID; the archive is Docker 25+ shaped', async () => {
  const id = await imageId('busybox');
  const file = join(dir, 'berth.tar');
  const s = await berth(daemon(), ['save', '-o', file, 'busybox']);
  assert.equal(s.code, 0, s.stderr);
  const files = await readTar(file);
  assert.ok(files.has('manifest.json') && files.has('index.json') && files.has('oci-layout'), [...files.keys()].join(','));
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
  assert.deepEqual(manifest[0].RepoTags, ['busybox:latest']);
  assert.equal(manifest[0].Config, `blobs/sha256/${id.slice(7)}`);
  for (const [name, data] of files) if (name.startsWith('blobs/sha256/') && data.length > 0) assert.equal(sha(data), name.slice('blobs/sha256/'.length), `${name} matches its digest`);

  assert.equal((await docker(daemon(), ['rmi', 'busybox'])).code, 0);
  const l = await berth(daemon(), ['load', '-i', file]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /Loaded image: busybox:latest/);
  assert.equal(await imageId('busybox'), id);
  const run = await docker(daemon(), ['run', '--rm', 'busybox', 'echo', 'loaded']);
  assert.equal(run.stdout, 'loaded\n', run.stderr);
});

test('docker load of a berth archive, berth load of a docker save archive', async () => {
  const id = await imageId('busybox');
  assert.equal((await docker(daemon(), ['tag', 'busybox', 'saved/one:v1'])).code, 0);
  const berthFile = join(dir, 'b2.tar');
  assert.equal((await berth(daemon(), ['save', '-o', berthFile, 'saved/one:v1'])).code, 0);
  assert.equal((await docker(daemon(), ['rmi', 'saved/one:v1'])).code, 0);
  const dl = await docker(daemon(), ['load', '-i', berthFile]);
  assert.equal(dl.code, 0, dl.stderr);
  assert.match(dl.stdout, /Loaded image: saved\/one:v1/);
  assert.equal(await imageId('saved/one:v1'), id);

  const dockerFile = join(dir, 'd.tar');
  const ds = await docker(daemon(), ['save', '-o', dockerFile, 'saved/one:v1', 'busybox']);
  assert.equal(ds.code, 0, ds.stderr);
  assert.equal((await docker(daemon(), ['rmi', '-f', id])).code, 0);
  const bl = await berth(daemon(), ['load', '-i', dockerFile]);
  assert.equal(bl.code, 0, bl.stderr);
  assert.match(bl.stdout, /Loaded image: saved\/one:v1/);
  assert.match(bl.stdout, /Loaded image: busybox:latest/);
  assert.equal(await imageId('busybox'), id);
});

test('load accepts the legacy docker 20.10 layout (<id>/layer.tar, <hex>.json) and a plain OCI layout', async () => {
  const files = await readTar(join(dir, 'berth.tar'));
  const m = (JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Config: string; Layers: string[] }>)[0];
  const config = files.get(m.Config)!;
  const layer = files.get(m.Layers[0])!;
  const legacy = join(dir, 'legacy.tar');
  const layerId = 'a'.repeat(64);
  await writeTar(legacy, [
    [`${sha(config)}.json`, config],
    [`${layerId}/VERSION`, Buffer.from('1.0')],
    [`${layerId}/json`, Buffer.from('{}')],
    [`${layerId}/layer.tar`, layer],
    ['manifest.json', Buffer.from(JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['legacy/img:old'], Layers: [`${layerId}/layer.tar`] }]))],
    ['repositories', Buffer.from(JSON.stringify({ 'legacy/img': { old: layerId } }))],
  ]);
  const r = await berth(daemon(), ['load', '-i', legacy]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Loaded image: legacy\/img:old/);
  assert.equal(await imageId('legacy/img:old'), `sha256:${sha(config)}`);

  // OCI layout only (what skopeo copy oci-archive: writes): index.json + blobs, name in annotations
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${sha(layer)}`, size: layer.length }] }));
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'oci/only:v2' } }] };
  const oci = join(dir, 'oci.tar');
  await writeTar(oci, [
    ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
    ['index.json', Buffer.from(JSON.stringify(index))],
    [`blobs/sha256/${sha(config)}`, config],
    [`blobs/sha256/${sha(layer)}`, layer],
    [`blobs/sha256/${sha(manifest)}`, manifest],
  ]);
  const o = await berth(daemon(), ['load', '-i', oci]);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stdout, /Loaded image: oci\/only:v2/);
});

test('POST /images/load without quiet reports Loading layer progress, then the loaded image', async () => {
  const { readFileSync } = await import('node:fs');
  const r = await daemon().api('POST', '/images/load?quiet=0', readFileSync(join(dir, 'berth.tar')), { 'Content-Type': 'application/x-tar' });
  assert.equal(r.status, 200);
  const lines = r.body.trim().split('\n').map((l) => JSON.parse(l) as { status?: string; progressDetail?: { current?: number; total?: number }; stream?: string });
  const progress = lines.filter((l) => l.status === 'Loading layer');
  assert.ok(progress.length > 0 && progress.every((l) => typeof l.progressDetail?.total === 'number'), r.body);
  assert.equal(lines[lines.length - 1].stream, 'Loaded image: busybox:latest\n');
});

test('bad archives fail cleanly and leave no blob behind', async () => {
  const blobsDir = join(daemon().dataRoot, 'content', 'blobs', 'sha256');
  const before = readdirSync(blobsDir).sort();
  // a blob whose bytes do not match its name
  const bad = join(dir, 'bad.tar');
  await writeTar(bad, [
    ['index.json', Buffer.from('{"schemaVersion":2,"manifests":[]}')],
    [`blobs/sha256/${'b'.repeat(64)}`, Buffer.from('not what the name says')],
  ]);
  const r = await berth(daemon(), ['load', '-i', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /digest mismatch/);
  // a layer that does not match the config's diff ID
  const files = await readTar(join(dir, 'berth.tar'));
  const m = (JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Config: string; Layers: string[] }>)[0];
  const wrongLayer = Buffer.alloc(10240); // an empty tar: valid, but not the diff ID
  const wrong = join(dir, 'wrong.tar');
  await writeTar(wrong, [
    ['c.json', files.get(m.Config)!],
    ['l/layer.tar', wrongLayer],
    ['manifest.json', Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['wrong/layer:x'], Layers: ['l/layer.tar'] }]))],
  ]);
  const w = await berth(daemon(), ['load', '-i', wrong]);
  assert.equal(w.code, 1);
  assert.match(w.stderr, /diff ID/);
  assert.equal((await docker(daemon(), ['image', 'inspect', 'wrong/layer:x'])).code, 1);
  // nothing new in the content store, no ingest leftovers, no half-made snapshots
  assert.deepEqual(readdirSync(blobsDir).sort(), before);
  assert.deepEqual(listDir(join(daemon().dataRoot, 'content', 'ingest')), []);
  const notTar = await berth(daemon(), ['load'], { input: 'this is not a tar archive at all' });
  assert.equal(notTar.code, 1);
  const missing = await docker(daemon(), ['save', 'no/such:image']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such image: no\/such:image/);
});
