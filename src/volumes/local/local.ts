import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../../lib/atomic.ts';
import { Conflict, InvalidParameter, NotFound, SystemError, errorMessage } from '../../lib/errors.ts';
import type { Host } from '../../os/host.ts';
import type { DriverVolume, VolumeDriver } from '../driver.ts';

export interface LocalDriverOptions {
  /** `<dataRoot>/volumes`: one directory per volume, `<name>/_data` holds the data. */
  root: string;
  host: Pick<Host, 'mountAll' | 'unmount' | 'isMounted'>;
}

/** The options of Docker's local driver (`-o type=tmpfs -o device=tmpfs -o o=size=64m`). */
interface LocalOptions {
  type?: string;
  device?: string;
  o?: string;
}

const VALID_KEYS = new Set(['type', 'device', 'o', 'size']);
const TMP_PREFIX = '.tmp-';
const RM_PREFIX = '.rm-';
const OPTS_FILE = 'opts.json';

/**
 * Docker's `local` volume driver. A plain volume is a directory, `<root>/<name>/_data`, that
 * containers bind-mount: mounting it costs nothing. A volume with options (`type`, `device`, `o`)
 * is a filesystem mounted on `_data` while at least one container uses it (tmpfs, a bind of an
 * existing directory, or any other `mount -t`). Creation builds the directory under a temporary
 * name and renames it into place, so a crash leaves only temporaries, which `sweep` removes.
 */
export class LocalDriver implements VolumeDriver {
  readonly name = 'local';
  readonly root: string;
  private readonly host: LocalDriverOptions['host'];
  /** Users of each mounted option volume (container IDs); the filesystem is mounted while non-empty. */
  private readonly users = new Map<string, Set<string>>();
  private readonly options = new Map<string, LocalOptions | null>();

  constructor(opts: LocalDriverOptions) {
    this.root = opts.root;
    this.host = opts.host;
  }

  async scope(): Promise<'local'> {
    return 'local';
  }

  private dir(name: string): string {
    return join(this.root, name);
  }
  dataDir(name: string): string {
    return join(this.root, name, '_data');
  }

  /** Docker's checks on local driver options, before anything is made. */
  static validateOptions(options: Record<string, string>): LocalOptions | null {
    const keys = Object.keys(options);
    if (keys.length === 0) return null;
    for (const k of keys) if (!VALID_KEYS.has(k)) throw new InvalidParameter(`invalid option key: "${k}"`);
    if ('size' in options) throw new InvalidParameter('quota size requested but no quota support');
    const out: LocalOptions = {};
    if (options.type) out.type = options.type;
    if (options.device) out.device = options.device;
    if (options.o) out.o = options.o;
    if (out.type === undefined && out.device === undefined && out.o === undefined) return null;
    if (!out.type) throw new InvalidParameter('missing required option: "type"');
    if (!out.device) throw new InvalidParameter('missing required option: "device"');
    return out;
  }

  async create(name: string, options: Record<string, string>): Promise<void> {
    const opts = LocalDriver.validateOptions(options);
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    const tmp = join(this.root, `${TMP_PREFIX}${name}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(join(tmp, '_data'), { recursive: true, mode: 0o755 });
      if (opts) await writeFile(join(tmp, OPTS_FILE), JSON.stringify(opts), { mode: 0o600 });
      try {
        await stat(this.dir(name));
        throw new Conflict(`volume ${name} already exists`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      await rename(tmp, this.dir(name));
      await fsyncDir(this.root);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    this.options.set(name, opts);
  }

  private async readOptions(name: string): Promise<LocalOptions | null> {
    const cached = this.options.get(name);
    if (cached !== undefined) return cached;
    let opts: LocalOptions | null = null;
    try {
      opts = JSON.parse(await readFile(join(this.dir(name), OPTS_FILE), 'utf8')) as LocalOptions;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.options.set(name, opts);
    return opts;
  }

  async mount(name: string, mountId: string): Promise<string> {
    const data = this.dataDir(name);
    const opts = await this.readOptions(name);
    if (!opts) return data;
    const users = this.users.get(name) ?? new Set<string>();
    if (users.size === 0 && !(await this.host.isMounted(data))) {
      const mountOptions = opts.o ? opts.o.split(',').filter(Boolean) : [];
      try {
        await this.host.mountAll([{ type: opts.type ?? 'none', source: opts.device ?? '', options: mountOptions }], data);
      } catch (err) {
        throw new SystemError(`error while mounting volume '${data}': ${errorMessage(err)}`, { cause: err });
      }
    }
    users.add(mountId);
    this.users.set(name, users);
    return data;
  }

  async adopt(name: string, mountId: string): Promise<void> {
    if (!(await this.readOptions(name))) return;
    const users = this.users.get(name) ?? new Set<string>();
    users.add(mountId);
    this.users.set(name, users);
  }

  async unmount(name: string, mountId: string): Promise<void> {
    const users = this.users.get(name);
    if (!users) return;
    users.delete(mountId);
    if (users.size > 0) return;
    this.users.delete(name);
    await this.host.unmount(this.dataDir(name));
  }

  async path(name: string): Promise<string> {
    return this.dataDir(name);
  }

  async get(name: string): Promise<DriverVolume | undefined> {
    try {
      await stat(this.dir(name));
    } catch {
      return undefined;
    }
    return { name, mountpoint: this.dataDir(name) };
  }

  async list(): Promise<DriverVolume[]> {
    let names: string[] = [];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    return names.filter((n) => !n.startsWith('.')).map((name) => ({ name, mountpoint: this.dataDir(name) }));
  }

  async remove(name: string): Promise<void> {
    const dir = this.dir(name);
    try {
      await stat(dir);
    } catch {
      throw new NotFound(`get ${name}: no such volume`);
    }
    await this.ensureUnmounted(name);
    // Rename first: a crash mid-delete leaves an obvious temporary, never a half-deleted volume.
    const doomed = join(this.root, `${RM_PREFIX}${name}-${randomBytes(4).toString('hex')}`);
    await rename(dir, doomed);
    this.options.delete(name);
    this.users.delete(name);
    await rm(doomed, { recursive: true, force: true });
  }

  /** Never delete through a mount (a bind of a host directory would lose the host's data). */
  private async ensureUnmounted(name: string): Promise<void> {
    const data = this.dataDir(name);
    if (!(await this.readOptions(name))) return;
    if (await this.host.isMounted(data)) await this.host.unmount(data);
    if (await this.host.isMounted(data)) throw new Conflict(`volume ${name} is still mounted at ${data}`);
  }

  /**
   * At daemon start: delete temporaries and directories of volumes without a record, and unmount
   * option volumes that no running container uses (after `adopt` registered those that are used).
   */
  async sweep(known: ReadonlySet<string>): Promise<void> {
    let names: string[] = [];
    try {
      names = await readdir(this.root);
    } catch {
      return;
    }
    for (const n of names) {
      const dir = join(this.root, n);
      if (n.startsWith(TMP_PREFIX) || n.startsWith(RM_PREFIX) || !known.has(n)) {
        const data = join(dir, '_data');
        if (await this.host.isMounted(data)) await this.host.unmount(data, { detach: true });
        if (await this.host.isMounted(data)) continue; // never rm through a mount
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      if ((this.users.get(n)?.size ?? 0) === 0 && (await this.readOptions(n)) && (await this.host.isMounted(join(dir, '_data')))) {
        await this.host.unmount(join(dir, '_data'));
      }
    }
  }
}
