// Docker's plugin discovery (moby pkg/plugins/discovery.go): a plugin named N is a UNIX socket
// `<sockets dir>/N.sock` (or `<sockets dir>/N/N.sock`), or a file `<spec dir>/N.spec` holding
// its address (`unix:///path` or `tcp://host:port`), or `<spec dir>/N.json` ({"Name","Addr"}).
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter, NotFound } from '../../lib/errors.ts';

export interface PluginDirs {
  /** Where plugins put their sockets (Docker: /run/docker/plugins). */
  sockets: string[];
  /** Where .spec and .json files are (Docker: /etc/docker/plugins, /usr/lib/docker/plugins). */
  specs: string[];
}

export const DEFAULT_PLUGIN_DIRS: PluginDirs = {
  sockets: ['/run/docker/plugins'],
  specs: ['/etc/docker/plugins', '/usr/lib/docker/plugins'],
};

/** Where to reach a plugin: a UNIX socket path or a TCP host and port. */
export type PluginAddress = { socketPath: string } | { host: string; port: number };

const PLUGIN_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false;
  }
}

export function parseAddress(addr: string, from: string): PluginAddress {
  const a = addr.trim();
  if (a.startsWith('unix://')) return { socketPath: a.slice('unix://'.length) };
  if (a.startsWith('tcp://')) {
    const u = new URL(a);
    return { host: u.hostname, port: Number(u.port) };
  }
  throw new InvalidParameter(`invalid plugin address ${JSON.stringify(a)} in ${from}: only unix:// and tcp:// are supported`);
}

export async function findPlugin(name: string, dirs: PluginDirs): Promise<PluginAddress> {
  if (!PLUGIN_NAME_RE.test(name)) throw new NotFound(`plugin "${name}" not found`);
  for (const dir of dirs.sockets) {
    for (const p of [join(dir, `${name}.sock`), join(dir, name, `${name}.sock`)]) {
      if (await isSocket(p)) return { socketPath: p };
    }
  }
  for (const dir of dirs.specs) {
    for (const ext of ['spec', 'json']) {
      const file = join(dir, `${name}.${ext}`);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue;
      }
      if (ext === 'spec') return parseAddress(text, file);
      let spec: { Addr?: unknown };
      try {
        spec = JSON.parse(text) as { Addr?: unknown };
      } catch {
        throw new InvalidParameter(`invalid plugin spec ${file}`);
      }
      if (typeof spec.Addr !== 'string') throw new InvalidParameter(`invalid plugin spec ${file}: no Addr`);
      return parseAddress(spec.Addr, file);
    }
  }
  throw new NotFound(`plugin "${name}" not found`);
}
