// The OCI distribution-spec v1.1 `/v2/` API over RegistryStorage: request routing, content
// negotiation, pagination, and the spec's error bodies. No business state lives here.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { log } from '../../lib/logger.ts';
import { MediaTypes } from '../../types/oci.ts';
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES, MANIFEST_TYPES, manifestMediaType, parseManifest, type AnyManifest } from '../manifest.ts';
import type { Access, Authorizer } from './auth.ts';
import { RegistryError } from './errors.ts';
import { sendFileRange } from './sendfile.ts';
import { checkDigest, isTag, validName, type RegistryStorage } from './storage.ts';
import type { TokenIssuer } from './token.ts';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const COMMON_HEADERS = { 'Docker-Distribution-API-Version': 'registry/2.0' };

export interface RegistryHandlerOptions {
  storage: RegistryStorage;
  authorizer: Authorizer;
  issuer?: TokenIssuer;
  readOnly?: boolean;
  /** `http` or `https`, for the token realm when it is this server's own. */
  scheme: 'http' | 'https';
}

type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; ref: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'referrers'; name: string; digest: string };

const ROUTES: Array<[RegExp, (m: RegExpExecArray) => Route]> = [
  [/^\/v2\/?$/, () => ({ kind: 'base' })],
  [/^\/v2\/_catalog$/, () => ({ kind: 'catalog' })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1] })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1], ref: m[2] })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/, (m) => ({ kind: 'upload', name: m[1], id: m[2] })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1], digest: m[2] })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1], digest: m[2] })],
];

function route(path: string): Route | undefined {
  for (const [re, make] of ROUTES) {
    const m = re.exec(path);
    if (m) return make(m);
  }
  return undefined;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What a request needs from the authorizer. */
function neededAccess(r: Route, method: string, query: URLSearchParams): Access[] {
  if (r.kind === 'base') return [];
  if (r.kind === 'catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  const action = method === 'DELETE' ? 'delete' : WRITE_METHODS.has(method) ? 'push' : 'pull';
  const needed: Access[] = [{ type: 'repository', name: r.name, actions: action === 'push' ? ['pull', 'push'] : [action] }];
  const from = query.get('from');
  if (r.kind === 'upload' && method === 'POST' && query.get('mount') && from && from !== r.name) needed.push({ type: 'repository', name: from, actions: ['pull'] });
  return needed;
}

function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body?: string | Buffer, head = false): void {
  const h: Record<string, string | number> = { ...COMMON_HEADERS, ...headers };
  if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
  else if (h['Content-Length'] === undefined && status !== 204) h['Content-Length'] = 0;
  res.writeHead(status, h);
  res.end(head ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}, head = false): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value), head);
}

function sendRegistryError(res: ServerResponse, err: RegistryError, head: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, err.status, { 'Content-Type': 'application/json', ...err.headers }, err.body(), head);
}

async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new RegistryError('MANIFEST_INVALID', { limit }, { message: `manifest larger than ${limit} bytes`, status: 413 });
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** `n` and `last` of a paginated list; returns the page and the Link header for the next. */
function paginate(all: string[], query: URLSearchParams, path: string): { page: string[]; link?: string } {
  const nRaw = query.get('n');
  const last = query.get('last');
  let items = last ? all.filter((x) => x > last) : all;
  if (nRaw === null || nRaw === '') return { page: items };
  const n = Number(nRaw);
  if (!Number.isInteger(n) || n < 0) throw new RegistryError('PAGINATION_NUMBER_INVALID', { n: nRaw });
  const more = items.length > n;
  items = items.slice(0, n);
  if (!more || items.length === 0) return { page: items };
  return { page: items, link: `<${path}?n=${n}&last=${encodeURIComponent(items[items.length - 1])}>; rel="next"` };
}

/** `bytes=a-b` against a size; undefined for no/unsupported Range, throws 416 when unsatisfiable. */
function parseRange(h: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!h) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) throw new RegistryError('RANGE_INVALID', { size }, { status: 416 });
  return { start, end };
}

/** The distribution API as a node:http request listener. */
export function createRegistryHandler(opts: RegistryHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { storage } = opts;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://registry');
    const head = method === 'HEAD';
    const publicUrl = `${opts.scheme}://${req.headers.host ?? 'localhost'}`;
    if (url.pathname === '/token' && opts.issuer) return opts.issuer.handle(req, res, url);
    const r = route(url.pathname);
    if (!r) {
      send(res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, '404 page not found\n', head);
      return;
    }
    if ('name' in r && !validName(r.name)) throw new RegistryError('NAME_INVALID', { name: r.name });
    await opts.authorizer.authorize(req, neededAccess(r, method, url.searchParams), publicUrl);
    if (opts.readOnly && WRITE_METHODS.has(method)) throw new RegistryError('UNSUPPORTED', null, { message: 'the registry is in read-only mode' });

    if ((r.kind === 'base' || r.kind === 'catalog' || r.kind === 'tags') && method !== 'GET' && method !== 'HEAD') {
      throw new RegistryError('UNSUPPORTED', null, { status: 405 });
    }
    switch (r.kind) {
      case 'base':
        return sendJson(res, 200, {}, {}, head);
      case 'catalog': {
        const { page, link } = paginate(await storage.repositories(), url.searchParams, '/v2/_catalog');
        return sendJson(res, 200, { repositories: page }, link ? { Link: link } : {}, head);
      }
      case 'tags': {
        if (!(await storage.repositoryExists(r.name))) throw new RegistryError('NAME_UNKNOWN', { name: r.name });
        const { page, link } = paginate(await storage.tags(r.name), url.searchParams, `/v2/${r.name}/tags/list`);
        return sendJson(res, 200, { name: r.name, tags: page }, link ? { Link: link } : {}, head);
      }
      case 'manifest':
        return manifest(req, res, method, r.name, decodeURIComponent(r.ref));
      case 'blob':
        return blob(req, res, method, r.name, decodeURIComponent(r.digest));
      case 'upload':
        return upload(req, res, method, r.name, r.id, url.searchParams);
      case 'referrers':
        return referrers(res, method, r.name, decodeURIComponent(r.digest), url.searchParams);
    }
  }

  async function manifest(req: IncomingMessage, res: ServerResponse, method: string, name: string, ref: string): Promise<void> {
    const byDigest = ref.includes(':');
    if (byDigest) checkDigest(ref);
    else if (!isTag(ref)) throw new RegistryError('MANIFEST_INVALID', { tag: ref }, { message: `invalid tag: ${ref}` });

    if (method === 'GET' || method === 'HEAD') {
      const digest = byDigest ? ref : await storage.resolveTag(name, ref);
      const stored = digest ? await storage.getManifest(name, digest) : undefined;
      if (!stored) throw new RegistryError('MANIFEST_UNKNOWN', { name, [byDigest ? 'digest' : 'tag']: ref });
      return send(res, 200, { 'Content-Type': stored.mediaType, 'Docker-Content-Digest': stored.digest, ETag: `"${stored.digest}"` }, stored.bytes, method === 'HEAD');
    }
    if (method === 'PUT') return putManifest(req, res, name, ref, byDigest);
    if (method === 'DELETE') {
      const ok = byDigest ? await storage.deleteManifest(name, ref) : await storage.deleteTag(name, ref);
      if (!ok) throw new RegistryError('MANIFEST_UNKNOWN', { name, ref });
      return send(res, 202, {});
    }
    throw new RegistryError('UNSUPPORTED', null, { status: 405 });
  }

  async function putManifest(req: IncomingMessage, res: ServerResponse, name: string, ref: string, byDigest: boolean): Promise<void> {
    const bytes = await readLimited(req, MAX_MANIFEST_BYTES);
    const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
    if (byDigest && digest !== ref) throw new RegistryError('DIGEST_INVALID', { expected: ref, actual: digest }, { message: `manifest digest ${digest} does not match ${ref}` });
    let m: AnyManifest;
    try {
      m = parseManifest(bytes);
    } catch (err) {
      throw new RegistryError('MANIFEST_INVALID', { reason: (err as Error).message });
    }
    const contentType = req.headers['content-type'];
    const mediaType = manifestMediaType(m, contentType);
    if (!MANIFEST_TYPES.includes(mediaType)) throw new RegistryError('MANIFEST_INVALID', { mediaType }, { message: `unsupported manifest media type: ${mediaType}` });
    if (m.schemaVersion !== 2) throw new RegistryError('MANIFEST_INVALID', { schemaVersion: m.schemaVersion ?? null }, { message: 'manifest schemaVersion must be 2' });
    const ct = contentType?.split(';')[0].trim();
    if (m.mediaType && ct && MANIFEST_TYPES.includes(ct) && ct !== m.mediaType) {
      throw new RegistryError('MANIFEST_INVALID', { mediaType: m.mediaType, contentType: ct }, { message: `manifest mediaType ${m.mediaType} does not match Content-Type ${ct}` });
    }
    if (IMAGE_MANIFEST_TYPES.includes(mediaType)) {
      if (!m.config || typeof m.config.digest !== 'string' || !Array.isArray(m.layers)) throw new RegistryError('MANIFEST_INVALID', null, { message: 'image manifest needs config and layers' });
      const blobs = [m.config, ...m.layers.filter((l) => !(l.urls && l.urls.length > 0))];
      for (const b of blobs) {
        if (typeof b?.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(b.digest) || (await storage.repoBlobSize(name, b.digest)) === undefined) {
          throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest: b?.digest ?? null }, { message: `blob unknown to registry: ${String(b?.digest)}` });
        }
      }
    } else if (INDEX_TYPES.includes(mediaType)) {
      if (!Array.isArray(m.manifests)) throw new RegistryError('MANIFEST_INVALID', null, { message: 'index needs manifests' });
      for (const c of m.manifests) {
        if (typeof c?.digest !== 'string' || !(await storage.hasManifest(name, c.digest))) {
          throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest: c?.digest ?? null }, { message: `manifest unknown to registry: ${String(c?.digest)}` });
        }
      }
    }
    await storage.putManifest(name, bytes, digest, mediaType, m, byDigest ? undefined : ref);
    const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
    if (m.subject?.digest) headers['OCI-Subject'] = m.subject.digest;
    send(res, 201, headers);
  }

  async function blob(req: IncomingMessage, res: ServerResponse, method: string, name: string, digest: string): Promise<void> {
    checkDigest(digest);
    if (method === 'DELETE') {
      if (!(await storage.unlinkBlob(name, digest))) throw new RegistryError('BLOB_UNKNOWN', { digest });
      return send(res, 202, { 'Docker-Content-Digest': digest });
    }
    if (method !== 'GET' && method !== 'HEAD') throw new RegistryError('UNSUPPORTED', null, { status: 405 });
    const size = await storage.repoBlobSize(name, digest);
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', { digest });
    const range = method === 'GET' ? parseRange(req.headers.range, size) : undefined;
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': digest,
      ETag: `"${digest}"`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'max-age=31536000',
      'Content-Length': range ? range.end - range.start + 1 : size,
    };
    if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    if (method === 'HEAD' || size === 0) {
      res.writeHead(range ? 206 : 200, { ...COMMON_HEADERS, ...headers }).end();
      return;
    }
    res.writeHead(range ? 206 : 200, { ...COMMON_HEADERS, ...headers });
    await sendFileRange(res, storage.blobPath(digest), range);
    res.end();
  }

  function uploadHeaders(name: string, id: string, size: number): Record<string, string> {
    return { Location: `/v2/${name}/blobs/uploads/${id}`, Range: `0-${Math.max(size - 1, 0)}`, 'Docker-Upload-UUID': id };
  }

  /** Whether a request carries a body (Content-Length > 0 or chunked). */
  function hasBody(req: IncomingMessage): boolean {
    const len = req.headers['content-length'];
    if (len !== undefined) return Number(len) > 0;
    return /chunked/i.test(String(req.headers['transfer-encoding'] ?? ''));
  }

  async function upload(req: IncomingMessage, res: ServerResponse, method: string, name: string, id: string, q: URLSearchParams): Promise<void> {
    if (method === 'POST') {
      if (id !== '') throw new RegistryError('UNSUPPORTED', null, { status: 405 });
      const mount = q.get('mount');
      const from = q.get('from');
      if (mount) {
        checkDigest(mount);
        if (from && validName(from) && (await storage.repoBlobSize(from, mount)) !== undefined) {
          await storage.linkBlob(name, mount);
          return send(res, 201, { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount });
        }
      }
      const digest = q.get('digest');
      const newId = await storage.startUpload(name);
      if (digest) {
        checkDigest(digest);
        try {
          await storage.appendUpload(name, newId, req);
          await storage.commitUpload(name, newId, digest);
        } catch (err) {
          await storage.cancelUpload(name, newId);
          throw err;
        }
        return send(res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
      }
      return send(res, 202, uploadHeaders(name, newId, 0));
    }
    if (id === '') throw new RegistryError('BLOB_UPLOAD_UNKNOWN', null);
    if (method === 'GET') {
      const size = await storage.uploadSize(name, id);
      return send(res, 204, uploadHeaders(name, id, size));
    }
    if (method === 'PATCH') {
      const range = req.headers['content-range'];
      let start: number | undefined;
      if (range) {
        const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(range.trim());
        if (!m) throw new RegistryError('RANGE_INVALID', { range }, { status: 416 });
        start = Number(m[1]);
      }
      const size = await storage.appendUpload(name, id, req, start);
      return send(res, 202, uploadHeaders(name, id, size));
    }
    if (method === 'PUT') {
      const digest = q.get('digest');
      if (!digest) throw new RegistryError('DIGEST_INVALID', null, { message: 'digest parameter missing' });
      checkDigest(digest);
      if (hasBody(req)) await storage.appendUpload(name, id, req);
      await storage.commitUpload(name, id, digest);
      return send(res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
    }
    if (method === 'DELETE') {
      await storage.uploadSize(name, id);
      await storage.cancelUpload(name, id);
      return send(res, 204, {});
    }
    throw new RegistryError('UNSUPPORTED', null, { status: 405 });
  }

  async function referrers(res: ServerResponse, method: string, name: string, digest: string, q: URLSearchParams): Promise<void> {
    if (method !== 'GET' && method !== 'HEAD') throw new RegistryError('UNSUPPORTED', null, { status: 405 });
    checkDigest(digest);
    let list = await storage.referrers(name, digest);
    const at = q.get('artifactType');
    const headers: Record<string, string> = {};
    if (at) {
      list = list.filter((d) => d.artifactType === at);
      headers['OCI-Filters-Applied'] = 'artifactType';
    }
    const index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: list };
    send(res, 200, { 'Content-Type': MediaTypes.ociIndex, ...headers }, JSON.stringify(index), method === 'HEAD');
  }

  return (req, res) => {
    const started = Date.now();
    handle(req, res)
      .catch((err: unknown) => {
        if (err instanceof RegistryError) {
          // drain what the client is still sending so it can read the answer
          if (!req.readableEnded) req.resume();
          sendRegistryError(res, err, req.method === 'HEAD');
          return;
        }
        // a client that goes away mid-transfer is routine, not a server failure
        const gone = req.destroyed || res.destroyed;
        (gone ? log.debug.bind(log) : log.error.bind(log))(gone ? 'registry client went away' : 'registry request failed', { method: req.method, url: req.url, error: err instanceof Error ? err.message : String(err) });
        if (res.headersSent) res.destroy();
        else sendRegistryError(res, new RegistryError('UNKNOWN', null), req.method === 'HEAD');
      })
      .finally(() => log.debug('registry request', { method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started }));
  };
}
