// A reference Docker volume plugin: serves the VolumeDriver protocol (HTTP + JSON on a UNIX
// socket) and keeps each volume as a directory under --root. Every call is appended to --log as
// one JSON line, so tests (and curious users) can see exactly what the engine asked.
//
//   node examples/volume-plugin/plugin.ts --socket /run/docker/plugins/refvol.sock \
//        --root /var/lib/refvol [--log /var/lib/refvol/calls.log]
//
// Runs with Node 24's type stripping, no build. Options given at create (`-o key=value`) are
// kept; `-o seed=TEXT` writes TEXT into a file named `seed` in the new volume.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

interface VolumeState {
  opts: Record<string, string>;
  createdAt: string;
  /** Container IDs that have it mounted. */
  mounts: string[];
}

const { values } = parseArgs({ options: { socket: { type: 'string' }, root: { type: 'string' }, log: { type: 'string' } } });
if (!values.socket || !values.root) {
  process.stderr.write('usage: plugin.ts --socket PATH --root DIR [--log FILE]\n');
  process.exit(2);
}
const socketPath = values.socket;
const root = values.root;
const logPath = values.log ?? join(root, 'calls.log');
const statePath = join(root, 'state.json');
mkdirSync(join(root, 'volumes'), { recursive: true });
mkdirSync(dirname(socketPath), { recursive: true });

const volumes = new Map<string, VolumeState>(existsSync(statePath) ? Object.entries(JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, VolumeState>) : []);

function save(): void {
  writeFileSync(statePath + '.tmp', JSON.stringify(Object.fromEntries(volumes)));
  renameSync(statePath + '.tmp', statePath);
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const dir = (name: string): string => join(root, 'volumes', name);

type Body = { Name?: string; ID?: string; Opts?: Record<string, string> | null };
type Handler = (b: Body) => Record<string, unknown>;

function need(b: Body): string {
  if (!b.Name || !NAME_RE.test(b.Name)) throw new Error(`invalid volume name ${JSON.stringify(b.Name)}`);
  return b.Name;
}
function mustExist(name: string): VolumeState {
  const v = volumes.get(name);
  if (!v) throw new Error(`no such volume: ${name}`);
  return v;
}

const handlers: Record<string, Handler> = {
  'Plugin.Activate': () => ({ Implements: ['VolumeDriver'] }),
  'VolumeDriver.Capabilities': () => ({ Capabilities: { Scope: 'local' } }),
  'VolumeDriver.Create': (b) => {
    const name = need(b);
    if (volumes.has(name)) return { Err: '' };
    mkdirSync(dir(name), { recursive: true });
    const opts = b.Opts ?? {};
    if (opts.seed !== undefined) writeFileSync(join(dir(name), 'seed'), opts.seed);
    volumes.set(name, { opts, createdAt: new Date().toISOString(), mounts: [] });
    save();
    return { Err: '' };
  },
  'VolumeDriver.Remove': (b) => {
    const name = need(b);
    const v = mustExist(name);
    if (v.mounts.length > 0) throw new Error(`volume ${name} is mounted by ${v.mounts.join(', ')}`);
    rmSync(dir(name), { recursive: true, force: true });
    volumes.delete(name);
    save();
    return { Err: '' };
  },
  'VolumeDriver.Mount': (b) => {
    const name = need(b);
    const v = mustExist(name);
    if (b.ID && !v.mounts.includes(b.ID)) v.mounts.push(b.ID);
    save();
    return { Mountpoint: dir(name), Err: '' };
  },
  'VolumeDriver.Unmount': (b) => {
    const name = need(b);
    const v = mustExist(name);
    v.mounts = v.mounts.filter((id) => id !== b.ID);
    save();
    return { Err: '' };
  },
  'VolumeDriver.Path': (b) => {
    const name = need(b);
    const v = mustExist(name);
    return { Mountpoint: v.mounts.length ? dir(name) : '', Err: '' };
  },
  'VolumeDriver.Get': (b) => {
    const name = need(b);
    const v = mustExist(name);
    return { Volume: { Name: name, Mountpoint: v.mounts.length ? dir(name) : '', CreatedAt: v.createdAt, Status: { mounts: v.mounts.length, opts: v.opts } }, Err: '' };
  },
  'VolumeDriver.List': () => ({ Volumes: [...volumes.entries()].map(([Name, v]) => ({ Name, Mountpoint: v.mounts.length ? dir(Name) : '' })), Err: '' }),
};

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const method = (req.url ?? '/').slice(1);
    let body: Body = {};
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      body = text ? (JSON.parse(text) as Body) : {};
    } catch {
      reply(res, 400, { Err: 'invalid JSON' });
      return;
    }
    appendFileSync(logPath, JSON.stringify({ method, ...body }) + '\n');
    const handler = handlers[method];
    if (!handler) {
      reply(res, 404, { Err: `unknown method ${method}` });
      return;
    }
    try {
      reply(res, 200, handler(body));
    } catch (err) {
      reply(res, 200, { Err: (err as Error).message });
    }
  });
});

rmSync(socketPath, { force: true });
server.listen(socketPath, () => process.stdout.write(`volume plugin listening on ${socketPath}\n`));
const stop = (): void => {
  server.close();
  rmSync(socketPath, { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
