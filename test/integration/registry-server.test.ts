// `berth registry serve` as a library, driven over HTTP on loopback: the distribution-spec
// endpoints, error codes, pagination, referrers, read-only mode, gc, and both auth schemes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startRegistry, type RunningRegistry } from '../../src/registry/server/server.ts';
import { garbageCollect } from '../../src/registry/server/gc.ts';
import { runCli, NODE, BERTH } from '../helpers/daemon.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-regsrv-'));
let reg: RunningRegistry;
before(async () => {
  reg = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'storage') });
});
after(async () => {
  await reg.close();
  rmSync(dir, { recursive: true, force: true });
});

const digestOf = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

async function req(method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}, base = reg.url): Promise<Response> {
  return fetch(base + path, { method, body, headers });
}

async function errorCode(r: Response): Promise<string> {
  const body = (await r.json()) as { errors: Array<{ code: string }> };
  return body.errors[0].code;
}

async function pushBlob(repo: string, data: Buffer | string): Promise<string> {
  const d = digestOf(data);
  const r = await req('POST', `/v2/${repo}/blobs/uploads/?digest=${d}`, data, { 'Content-Type': 'application/octet-stream' });
  assert.equal(r.status, 201, await r.text());
  return d;
}

function imageManifest(config: string, configSize: number, layers: Array<[string, number]>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: configSize }, layers: layers.map(([digest, size]) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size })), ...extra });
}

async function pushImage(repo: string, tag: string, layerText: string): Promise<{ digest: string; manifest: string; layer: string; config: string }> {
  const config = '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}';
  const cd = await pushBlob(repo, config);
  const ld = await pushBlob(repo, layerText);
  const manifest = imageManifest(cd, config.length, [[ld, layerText.length]]);
  const r = await req('PUT', `/v2/${repo}/manifests/${tag}`, manifest, { 'Content-Type': OCI_MANIFEST });
  assert.equal(r.status, 201, await r.text());
  assert.equal(r.headers.get('docker-content-digest'), digestOf(manifest));
  return { digest: digestOf(manifest), manifest, layer: ld, config: cd };
}

const blobFiles = (): string[] => readdirSync(join(dir, 'storage', 'blobs', 'sha256')).sort();
const uploadDirs = (): string[] => readdirSync(join(dir, 'storage', 'uploads'));

test('base endpoint, monolithic upload, HEAD and ranged GET', async () => {
  const base = await req('GET', '/v2/');
  assert.equal(base.status, 200);
  assert.equal(base.headers.get('docker-distribution-api-version'), 'registry/2.0');
  const d = await pushBlob('a/b', 'hello world');
  const head = await req('HEAD', `/v2/a/b/blobs/${d}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '11');
  assert.equal(head.headers.get('docker-content-digest'), d);
  const range = await req('GET', `/v2/a/b/blobs/${d}`, undefined, { Range: 'bytes=6-' });
  assert.equal(range.status, 206);
  assert.equal(range.headers.get('content-range'), 'bytes 6-10/11');
  assert.equal(await range.text(), 'world');
  assert.equal((await req('GET', `/v2/a/b/blobs/${d}`, undefined, { Range: 'bytes=20-' })).status, 416);
  // not linked in another repository
  const other = await req('GET', `/v2/c/d/blobs/${d}`);
  assert.equal(other.status, 404);
  assert.equal(await errorCode(other), 'BLOB_UNKNOWN');
  assert.equal(await errorCode(await req('GET', '/v2/a/b/blobs/sha256:xyz')), 'DIGEST_INVALID');
  assert.equal(await errorCode(await req('GET', '/v2/A_B/tags/list')), 'NAME_INVALID');
});

test('a blob whose bytes do not match its digest is DIGEST_INVALID and nothing is stored', async () => {
  const before = blobFiles();
  const wrong = digestOf('something else');
  const r = await req('POST', `/v2/a/b/blobs/uploads/?digest=${wrong}`, 'the real bytes');
  assert.equal(r.status, 400);
  assert.equal(await errorCode(r), 'DIGEST_INVALID');
  // chunked too
  const start = await req('POST', '/v2/a/b/blobs/uploads/');
  const loc = start.headers.get('location')!;
  await (await req('PATCH', loc, 'chunk')).text();
  const put = await req('PUT', `${loc}?digest=${wrong}`);
  assert.equal(await errorCode(put), 'DIGEST_INVALID');
  assert.deepEqual(blobFiles(), before);
  assert.deepEqual(uploadDirs(), []);
  assert.equal((await req('HEAD', `/v2/a/b/blobs/${wrong}`)).status, 404);
});

test('chunked upload with Content-Range, status GET, out-of-order chunk, cancel', async () => {
  const start = await req('POST', '/v2/chunks/blobs/uploads/');
  assert.equal(start.status, 202);
  const loc = start.headers.get('location')!;
  assert.match(loc, /^\/v2\/chunks\/blobs\/uploads\/[0-9a-f-]{36}$/);
  assert.ok(start.headers.get('docker-upload-uuid'));
  const p1 = await req('PATCH', loc, 'hello ', { 'Content-Range': '0-5', 'Content-Type': 'application/octet-stream' });
  assert.equal(p1.status, 202);
  assert.equal(p1.headers.get('range'), '0-5');
  const status = await req('GET', loc);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-5');
  const bad = await req('PATCH', loc, 'xx', { 'Content-Range': '3-4' });
  assert.equal(bad.status, 416);
  const p2 = await req('PATCH', loc, 'chunks', { 'Content-Range': '6-11' });
  assert.equal(p2.headers.get('range'), '0-11');
  const d = digestOf('hello chunks!');
  const put = await req('PUT', `${loc}?digest=${d}`, '!', { 'Content-Type': 'application/octet-stream' });
  assert.equal(put.status, 201, await put.clone().text());
  assert.equal(await errorCode(await req('PUT', `${loc}?digest=${d}`)), 'BLOB_UPLOAD_UNKNOWN');
  assert.equal(await (await req('GET', `/v2/chunks/blobs/${digestOf('hello chunks!')}`)).text(), 'hello chunks!');
  const cancel = await req('POST', '/v2/chunks/blobs/uploads/');
  const cl = cancel.headers.get('location')!;
  assert.equal((await req('DELETE', cl)).status, 204);
  assert.equal((await req('GET', cl)).status, 404);
});

test('cross-repository mount', async () => {
  const d = await pushBlob('src/repo', 'mount me');
  const m = await req('POST', `/v2/dst/repo/blobs/uploads/?mount=${d}&from=src/repo`);
  assert.equal(m.status, 201);
  assert.equal(m.headers.get('location'), `/v2/dst/repo/blobs/${d}`);
  assert.equal((await req('HEAD', `/v2/dst/repo/blobs/${d}`)).status, 200);
  const miss = await req('POST', `/v2/dst/repo/blobs/uploads/?mount=${digestOf('nope')}&from=src/repo`);
  assert.equal(miss.status, 202, 'falls back to an upload session');
});

test('a manifest naming missing blobs is MANIFEST_BLOB_UNKNOWN and nothing is stored', async () => {
  const config = await pushBlob('m/x', '{}');
  const missing = digestOf('never uploaded');
  const manifest = imageManifest(config, 2, [[missing, 14]]);
  const r = await req('PUT', '/v2/m/x/manifests/v1', manifest, { 'Content-Type': OCI_MANIFEST });
  assert.equal(r.status, 400);
  const body = (await r.json()) as { errors: Array<{ code: string; detail: { digest: string } }> };
  assert.equal(body.errors[0].code, 'MANIFEST_BLOB_UNKNOWN');
  assert.equal(body.errors[0].detail.digest, missing);
  assert.equal((await req('GET', '/v2/m/x/manifests/v1')).status, 404);
  assert.equal((await req('GET', `/v2/m/x/manifests/${digestOf(manifest)}`)).status, 404);
  assert.ok(!blobFiles().includes(digestOf(manifest).slice(7)));
  // malformed and mismatched manifests
  assert.equal(await errorCode(await req('PUT', '/v2/m/x/manifests/v1', '{not json', { 'Content-Type': OCI_MANIFEST })), 'MANIFEST_INVALID');
  const good = imageManifest(config, 2, []);
  assert.equal(await errorCode(await req('PUT', `/v2/m/x/manifests/${digestOf('other')}`, good, { 'Content-Type': OCI_MANIFEST })), 'DIGEST_INVALID');
});

test('manifests by tag and digest, index, Docker schema2 types, delete', async () => {
  const img = await pushImage('app', 'v1', 'layer-1');
  const byTag = await req('GET', '/v2/app/manifests/v1', undefined, { Accept: OCI_MANIFEST });
  assert.equal(byTag.status, 200);
  assert.equal(byTag.headers.get('content-type'), OCI_MANIFEST);
  assert.equal(await byTag.text(), img.manifest);
  const head = await req('HEAD', `/v2/app/manifests/${img.digest}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(img.manifest.length));
  // an index over it
  const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: img.digest, size: img.manifest.length, platform: { os: 'linux', architecture: 'amd64' } }] });
  assert.equal((await req('PUT', '/v2/app/manifests/multi', index, { 'Content-Type': OCI_INDEX })).status, 201);
  const badIndex = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: digestOf('x'), size: 1 }] });
  assert.equal(await errorCode(await req('PUT', '/v2/app/manifests/bad', badIndex, { 'Content-Type': OCI_INDEX })), 'MANIFEST_BLOB_UNKNOWN');
  // Docker schema2 manifest and manifest list
  const d2 = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: img.config, size: 80 }, layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: img.layer, size: 7 }] });
  const r2 = await req('PUT', '/v2/app/manifests/docker', d2, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' });
  assert.equal(r2.status, 201);
  assert.equal((await req('GET', '/v2/app/manifests/docker')).headers.get('content-type'), 'application/vnd.docker.distribution.manifest.v2+json');
  const list = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [{ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: digestOf(d2), size: d2.length, platform: { os: 'linux', architecture: 'amd64' } }] });
  assert.equal((await req('PUT', '/v2/app/manifests/list', list, { 'Content-Type': 'application/vnd.docker.distribution.manifest.list.v2+json' })).status, 201);
  // delete by tag (OCI 1.1), then by digest
  assert.equal((await req('DELETE', '/v2/app/manifests/docker')).status, 202);
  assert.equal((await req('GET', '/v2/app/manifests/docker')).status, 404);
  assert.equal((await req('GET', `/v2/app/manifests/${digestOf(d2)}`)).status, 200, 'deleting a tag keeps the manifest');
  assert.equal((await req('DELETE', `/v2/app/manifests/${digestOf(d2)}`)).status, 202);
  assert.equal(await errorCode(await req('GET', `/v2/app/manifests/${digestOf(d2)}`)), 'MANIFEST_UNKNOWN');
  assert.equal((await req('DELETE', `/v2/app/blobs/${img.layer}`)).status, 202);
  assert.equal((await req('HEAD', `/v2/app/blobs/${img.layer}`)).status, 404);
});

test('tags list and catalog paginate with n/last and Link', async () => {
  for (const t of ['c', 'a', 'b', 'd']) await pushImage('paged', t, `layer-${t}`);
  const all = (await (await req('GET', '/v2/paged/tags/list')).json()) as { name: string; tags: string[] };
  assert.deepEqual(all, { name: 'paged', tags: ['a', 'b', 'c', 'd'] });
  const p1 = await req('GET', '/v2/paged/tags/list?n=2');
  assert.deepEqual(((await p1.json()) as { tags: string[] }).tags, ['a', 'b']);
  assert.equal(p1.headers.get('link'), '</v2/paged/tags/list?n=2&last=b>; rel="next"');
  const p2 = await req('GET', '/v2/paged/tags/list?n=2&last=b');
  assert.deepEqual(((await p2.json()) as { tags: string[] }).tags, ['c', 'd']);
  assert.equal(p2.headers.get('link'), null);
  assert.equal(await errorCode(await req('GET', '/v2/nothere/tags/list')), 'NAME_UNKNOWN');
  const cat = (await (await req('GET', '/v2/_catalog')).json()) as { repositories: string[] };
  assert.ok(cat.repositories.includes('paged') && cat.repositories.includes('a/b'), cat.repositories.join(','));
  assert.deepEqual(cat.repositories, [...cat.repositories].sort());
  const c1 = await req('GET', '/v2/_catalog?n=1');
  assert.equal(((await c1.json()) as { repositories: string[] }).repositories.length, 1);
  assert.match(c1.headers.get('link') ?? '', /^<\/v2\/_catalog\?n=1&last=[^>]+>; rel="next"$/);
});

test('referrers API: subject, OCI-Subject header, artifactType filter', async () => {
  const img = await pushImage('refs', 'v1', 'base');
  const emptyConfig = await pushBlob('refs', '{}');
  const sig = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyConfig, size: 2 }, layers: [], subject: { mediaType: OCI_MANIFEST, digest: img.digest, size: img.manifest.length }, annotations: { who: 'test' } });
  const put = await req('PUT', `/v2/refs/manifests/${digestOf(sig)}`, sig, { 'Content-Type': OCI_MANIFEST });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('oci-subject'), img.digest);
  const list = await req('GET', `/v2/refs/referrers/${img.digest}`);
  assert.equal(list.headers.get('content-type'), OCI_INDEX);
  const index = (await list.json()) as { manifests: Array<{ digest: string; artifactType: string; annotations: Record<string, string> }> };
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0].digest, digestOf(sig));
  assert.equal(index.manifests[0].artifactType, 'application/vnd.example.sig');
  assert.deepEqual(index.manifests[0].annotations, { who: 'test' });
  const filtered = await req('GET', `/v2/refs/referrers/${img.digest}?artifactType=application/other`);
  assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
  assert.deepEqual(((await filtered.json()) as { manifests: unknown[] }).manifests, []);
  const none = (await (await req('GET', `/v2/refs/referrers/${digestOf('nothing')}`)).json()) as { manifests: unknown[] };
  assert.deepEqual(none.manifests, []);
});

test('read-only mode refuses writes; gc deletes only unreferenced blobs', async () => {
  const ro = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'storage'), readOnly: true });
  try {
    const r = await req('POST', '/v2/ro/blobs/uploads/', undefined, {}, ro.url);
    assert.equal(r.status, 405);
    assert.equal(await errorCode(r), 'UNSUPPORTED');
    assert.equal((await req('GET', '/v2/app/manifests/v1', undefined, {}, ro.url)).status, 200);
  } finally {
    await ro.close();
  }
  const kept = await pushImage('gc', 'keep', 'kept layer');
  const dropped = await pushImage('gc', 'drop', 'dropped layer');
  assert.equal((await req('DELETE', `/v2/gc/manifests/${dropped.digest}`)).status, 202);
  const orphan = await pushBlob('gc', 'orphan blob');
  const result = await garbageCollect(reg.storage);
  assert.ok(result.deleted.includes(dropped.layer) && result.deleted.includes(orphan) && result.deleted.includes(dropped.digest), JSON.stringify(result.deleted));
  assert.ok(!result.deleted.includes(kept.layer) && !result.deleted.includes(kept.config));
  assert.equal((await req('GET', `/v2/gc/blobs/${kept.layer}`)).status, 200);
  assert.equal((await req('GET', `/v2/gc/blobs/${orphan}`)).status, 404, 'links to deleted blobs are gone too');
  assert.equal(await (await req('GET', '/v2/gc/manifests/keep')).text(), kept.manifest);
});

test('htpasswd: 401 with a Basic challenge, bad credentials refused, good ones accepted', async () => {
  const file = join(dir, 'htpasswd');
  writeFileSync(file, `alice:${bcrypt.hashSync('secret', 4).replace(/^\$2b\$/, '$2y$')}\n`);
  const auth = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'auth-storage'), htpasswd: file });
  try {
    const anon = await req('GET', '/v2/', undefined, {}, auth.url);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="berth-registry"');
    assert.equal(await errorCode(anon), 'UNAUTHORIZED');
    const basic = (u: string, p: string): Record<string, string> => ({ Authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
    assert.equal((await req('GET', '/v2/', undefined, basic('alice', 'wrong'), auth.url)).status, 401);
    assert.equal((await req('GET', '/v2/', undefined, basic('alice', 'secret'), auth.url)).status, 200);
    const d = digestOf('x');
    assert.equal((await req('POST', `/v2/p/blobs/uploads/?digest=${d}`, 'x', {}, auth.url)).status, 401);
    assert.equal((await req('POST', `/v2/p/blobs/uploads/?digest=${d}`, 'x', basic('alice', 'secret'), auth.url)).status, 201);
  } finally {
    await auth.close();
  }
});

test('token flow: Bearer challenge with scope, /token issues scoped JWTs', async () => {
  const file = join(dir, 'htpasswd');
  const tok = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'token-storage'), htpasswd: file, issueTokens: true });
  try {
    const anon = await req('GET', '/v2/t/tags/list', undefined, {}, tok.url);
    assert.equal(anon.status, 401);
    const ch = anon.headers.get('www-authenticate')!;
    assert.equal(ch, `Bearer realm="${tok.url}/token",service="berth-registry",scope="repository:t:pull"`);
    const basic = 'Basic ' + Buffer.from('alice:secret').toString('base64');
    assert.equal((await fetch(`${tok.url}/token?service=berth-registry&scope=repository:t:pull`, { headers: { Authorization: 'Basic ' + Buffer.from('alice:bad').toString('base64') } })).status, 401);
    const pullTok = ((await (await fetch(`${tok.url}/token?service=berth-registry&scope=repository:t:pull`, { headers: { Authorization: basic } })).json()) as { token: string }).token;
    const bearer = { Authorization: `Bearer ${pullTok}` };
    assert.equal((await req('GET', '/v2/t/tags/list', undefined, bearer, tok.url)).status, 404, 'authorized: the repository just does not exist');
    const push = await req('POST', '/v2/t/blobs/uploads/', undefined, bearer, tok.url);
    assert.equal(push.status, 401, 'a pull token does not allow push');
    assert.match(push.headers.get('www-authenticate')!, /error="insufficient_scope"/);
    const anonTok = ((await (await fetch(`${tok.url}/token?service=berth-registry&scope=repository:t:pull`)).json()) as { token: string }).token;
    assert.equal((await req('GET', '/v2/t/tags/list', undefined, { Authorization: `Bearer ${anonTok}` }, tok.url)).status, 401, 'anonymous tokens grant nothing with htpasswd');
    assert.equal((await req('GET', '/v2/', undefined, { Authorization: 'Bearer not.a.jwt' }, tok.url)).status, 401);
  } finally {
    await tok.close();
  }
});

test('external token server: tokens signed with --token-key\'s private half are accepted, others refused', async () => {
  const { generateKeyPair, exportSPKI, SignJWT } = await import('jose');
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const other = await generateKeyPair('ES256');
  const keyFile = join(dir, 'token.pub.pem');
  writeFileSync(keyFile, await exportSPKI(publicKey));
  const ext = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'ext-storage'), tokenRealm: 'http://127.0.0.1:1/token', tokenKey: keyFile, tokenService: 'svc', tokenIssuer: 'issuer' });
  try {
    const anon = await req('GET', '/v2/e/tags/list', undefined, {}, ext.url);
    assert.equal(anon.headers.get('www-authenticate'), 'Bearer realm="http://127.0.0.1:1/token",service="svc",scope="repository:e:pull"');
    const sign = (key: Parameters<InstanceType<typeof SignJWT>['sign']>[0], claims: Record<string, unknown>, iss = 'issuer'): Promise<string> =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setIssuer(iss).setAudience('svc').setIssuedAt().setExpirationTime('5m').sign(key);
    const access = { access: [{ type: 'repository', name: 'e', actions: ['pull'] }] };
    const ok = await req('GET', '/v2/e/tags/list', undefined, { Authorization: `Bearer ${await sign(privateKey, access)}` }, ext.url);
    assert.equal(ok.status, 404, 'authorized (the repository does not exist)');
    assert.equal((await req('GET', '/v2/e/tags/list', undefined, { Authorization: `Bearer ${await sign(other.privateKey, access)}` }, ext.url)).status, 401, 'wrong key');
    assert.equal((await req('GET', '/v2/e/tags/list', undefined, { Authorization: `Bearer ${await sign(privateKey, access, 'someone-else')}` }, ext.url)).status, 401, 'wrong issuer');
    assert.equal((await req('GET', '/v2/f/tags/list', undefined, { Authorization: `Bearer ${await sign(privateKey, access)}` }, ext.url)).status, 401, 'other repository');
  } finally {
    await ext.close();
  }
});

test('berth registry gc on the command line: --dry-run lists, then deletes', async () => {
  const storage = join(dir, 'cli-gc');
  const r2 = await startRegistry({ addr: '127.0.0.1:0', storage });
  let orphan = '';
  try {
    const d = digestOf('cli orphan');
    const r = await fetch(`${r2.url}/v2/gc/cli/blobs/uploads/?digest=${d}`, { method: 'POST', body: 'cli orphan' });
    assert.equal(r.status, 201);
    orphan = d;
  } finally {
    await r2.close();
  }
  const dry = await runCli(NODE, [BERTH, 'registry', 'gc', '--storage', storage, '--dry-run'], { env: process.env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`would delete blob ${orphan}`));
  assert.ok(readdirSync(join(storage, 'blobs', 'sha256')).includes(orphan.slice(7)));
  const real = await runCli(NODE, [BERTH, 'registry', 'gc', '--storage', storage], { env: process.env });
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /1 blobs deleted/);
  assert.deepEqual(readdirSync(join(storage, 'blobs', 'sha256')), []);
  const bad = await runCli(NODE, [BERTH, 'registry', 'serve', '--bogus'], { env: process.env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /berth registry serve: .*bogus/);
});
