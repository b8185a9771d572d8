// Pull formats and registry configuration: an OCI index resolved to the host platform or to
// --platform, zstd and gzip layers, docker.io served by a --registry-mirror, and TLS registries
// trusted through --certs-dir/<host:port>/ca.crt (and refused with the wrong CA).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { TestDaemon, docker, runCli } from '../helpers/daemon.ts';
import { makeBusyboxRootfsTar } from '../helpers/busybox.ts';
import { TestRegistry } from '../helpers/registry.ts';

const plain = new TestRegistry();
const tlsGood = new TestRegistry();
const tlsBad = new TestRegistry();
let daemon: TestDaemon;
let indexDigest = '';

const sha = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function putBlob(url: string, repo: string, data: Buffer | string): Promise<string> {
  const d = sha(data);
  const r = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${d}`, { method: 'POST', body: data });
  assert.equal(r.status, 201, await r.text());
  return d;
}

async function putManifest(url: string, repo: string, ref: string, body: string, type: string): Promise<string> {
  const r = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body, headers: { 'Content-Type': type } });
  assert.equal(r.status, 201, await r.text());
  return sha(body);
}

async function selfSigned(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const r = await runCli('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { env: process.env });
  assert.equal(r.code, 0, r.stderr);
  return { cert, key };
}

/** An index with linux/amd64 (zstd layer) and linux/arm64 (gzip layer) under `repo:tag`. */
async function pushMultiPlatform(url: string, repo: string, tag: string, rootfs: Buffer): Promise<string> {
  const diffId = sha(rootfs);
  const manifests = [];
  for (const [arch, compress, layerType] of [
    ['amd64', zstdCompressSync, 'application/vnd.oci.image.layer.v1.tar+zstd'],
    ['arm64', gzipSync, 'application/vnd.oci.image.layer.v1.tar+gzip'],
  ] as const) {
    const layer = compress(rootfs);
    const layerDigest = await putBlob(url, repo, layer);
    const config = JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [diffId] }, history: [{ created_by: `test ${arch}` }] });
    const configDigest = await putBlob(url, repo, config);
    const m = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [{ mediaType: layerType, digest: layerDigest, size: layer.length }] });
    const md = await putManifest(url, repo, sha(m), m, 'application/vnd.oci.image.manifest.v1+json');
    manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: m.length, platform: { os: 'linux', architecture: arch } });
  }
  const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests });
  return putManifest(url, repo, tag, index, 'application/vnd.oci.image.index.v1+json');
}

before(async () => {
  await plain.start();
  const certs = join(plain.dir, 'tls');
  mkdirSync(certs);
  const good = await selfSigned(certs, 'good');
  const bad = await selfSigned(certs, 'bad');
  await tlsGood.start(['--tls-cert', good.cert, '--tls-key', good.key]);
  await tlsBad.start(['--tls-cert', bad.cert, '--tls-key', bad.key]);
  const rootfs = readFileSync(await makeBusyboxRootfsTar(join(plain.dir, 'rootfs.tar')));
  indexDigest = await pushMultiPlatform(plain.url, 'multi', 'v1', rootfs);
  await pushMultiPlatform(plain.url, 'library/busybox', 'latest', rootfs);
  // trust: the good registry's own cert as its CA; the bad registry is given the good one (wrong)
  const certsDir = join(plain.dir, 'certs.d');
  for (const [reg, ca] of [[tlsGood, good.cert], [tlsBad, good.cert]] as const) {
    mkdirSync(join(certsDir, reg.host), { recursive: true });
    writeFileSync(join(certsDir, reg.host, 'ca.crt'), readFileSync(ca));
  }
  daemon = new TestDaemon();
  await daemon.start({}, ['--registry-mirror', plain.url, '--certs-dir', certsDir]);
});
after(async () => {
  await daemon?.cleanup();
  for (const r of [plain, tlsGood, tlsBad]) await r.cleanup();
});

test('an OCI index resolves to the host platform (zstd layer) and runs; --platform picks another (gzip layer)', async () => {
  const ref = `${plain.host}/multi:v1`;
  const pull = await docker(daemon, ['pull', ref]);
  assert.equal(pull.code, 0, pull.stderr + daemon.logs.slice(-2000));
  assert.match(pull.stdout, new RegExp(`Digest: ${indexDigest}`));
  const inspect = await docker(daemon, ['image', 'inspect', '--format', '{{.Architecture}} {{json .RepoDigests}}', ref]);
  assert.equal(inspect.stdout.trim(), `amd64 ${JSON.stringify([`${plain.host}/multi@${indexDigest}`])}`);
  const run = await docker(daemon, ['run', '--rm', ref, 'echo', 'zstd layer']);
  assert.equal(run.stdout, 'zstd layer\n', run.stderr);

  const arm = await docker(daemon, ['pull', '--platform', 'linux/arm64', ref]);
  assert.equal(arm.code, 0, arm.stderr);
  assert.equal((await docker(daemon, ['image', 'inspect', '--format', '{{.Architecture}}', ref])).stdout.trim(), 'arm64');
  const none = await docker(daemon, ['pull', '--platform', 'linux/s390x', ref]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no matching manifest for linux\/s390x/);
});

test('docker.io names are served by the configured registry mirror', async () => {
  const pull = await docker(daemon, ['pull', 'busybox']);
  assert.equal(pull.code, 0, pull.stderr + daemon.logs.slice(-2000));
  assert.match(pull.stdout, /Status: Downloaded newer image for busybox:latest/);
  const run = await docker(daemon, ['run', '--rm', 'busybox', 'echo', 'from the mirror']);
  assert.equal(run.stdout, 'from the mirror\n', run.stderr);
  const missing = await docker(daemon, ['pull', 'busybox:nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /manifest for busybox:nope not found/);
  const push = await docker(daemon, ['push', 'busybox']);
  assert.equal(push.code, 1, 'mirrors are for pulls only');
  assert.match(push.stderr, /docker\.io/);
});

test('a TLS registry trusted via certs.d works over https; the wrong CA is refused', async () => {
  assert.match(tlsGood.url, /^https:/);
  const name = `${tlsGood.host}/secure/busybox:v1`;
  assert.equal((await docker(daemon, ['tag', 'busybox', name])).code, 0);
  const push = await docker(daemon, ['push', name]);
  assert.equal(push.code, 0, push.stderr + daemon.logs.slice(-2000));
  assert.equal((await docker(daemon, ['rmi', name])).code, 0);
  const pull = await docker(daemon, ['pull', name]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(tlsGood.logs, /url="\/v2\/secure\/busybox\/manifests\/v1" status=200/);

  const badName = `${tlsBad.host}/secure/busybox:v1`;
  assert.equal((await docker(daemon, ['tag', 'busybox', badName])).code, 0);
  const refused = await docker(daemon, ['push', badName]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /certificate|self[- ]signed|verify/i);
});

test('a layer blob that is not the layer its config names is refused, even when that layer exists locally', async () => {
  // the config names busybox's diff ID (unpacked here already); the blob is something else
  const rootfs = readFileSync(join(plain.dir, 'rootfs.tar'));
  const bogus = gzipSync(Buffer.alloc(10240));
  const layerDigest = await putBlob(plain.url, 'evil', bogus);
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(rootfs)] } });
  const configDigest = await putBlob(plain.url, 'evil', config);
  const m = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: bogus.length }] });
  await putManifest(plain.url, 'evil', 'v1', m, 'application/vnd.oci.image.manifest.v1+json');
  const pull = await docker(daemon, ['pull', `${plain.host}/evil:v1`]);
  assert.equal(pull.code, 1);
  assert.match(pull.stderr, /digest mismatch/);
  assert.equal((await docker(daemon, ['image', 'inspect', `${plain.host}/evil:v1`])).code, 1);
  const blobs = readdirSync(join(daemon.dataRoot, 'content', 'blobs', 'sha256'));
  assert.ok(!blobs.includes(layerDigest.slice(7)), 'the bogus blob is not kept');
});
