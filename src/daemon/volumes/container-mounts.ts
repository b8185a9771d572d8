import { mkdir, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { InvalidParameter, errorMessage, isKind } from '../../lib/errors.ts';
import { log } from '../../lib/logger.ts';
import { entryComponents, joinInside, resolveInScope } from '../../lib/safepath.ts';
import type { ContainerConfig, HostConfig, MountPoint } from '../../types/docker.ts';
import type { SpecMount } from '../../types/oci.ts';
import { copyImageContent } from '../../volumes/copyup.ts';
import { anonymousVolume, parseBind, parseMount, parseTmpfs, parseVolumesFrom, tmpfsSpecOptions, type MountRequest, type ParsedMount } from '../../volumes/mountspec.ts';
import type { MountRecord } from '../../volumes/store.ts';
import type { ContainerVolumes } from '../containers/deps.ts';
import type { ContainerRecord } from '../containers/record.ts';
import { ensureVolume } from './create.ts';
import type { VolumeDeps } from './deps.ts';
import { removeVolume } from './remove.ts';

interface ActiveVolume {
  name: string;
  driver: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * The container side of volumes: which mounts a container has (recorded at create, in the same
 * transaction as the container), and their set-up at start and tear-down at exit. Plain local
 * volumes and binds cost no syscall at start beyond a few stats: they become bind entries of the
 * OCI spec and runc mounts them. Drivers that need a mount (plugins, local volumes with options)
 * are mounted per container and unmounted when it stops; which containers hold mounts is rebuilt
 * at daemon start from the containers whose runtime resources still exist.
 */
export class ContainerMounts implements ContainerVolumes {
  private readonly deps: VolumeDeps;
  private readonly findContainer: (ref: string) => string;
  private readonly active = new Map<string, ActiveVolume[]>();

  constructor(deps: VolumeDeps, opts: { findContainer: (ref: string) => string }) {
    this.deps = deps;
    this.findContainer = opts.findContainer;
  }

  /** dockerd's order: volumes-from, then Binds, then Mounts, then the image's and Config's VOLUMEs for paths still free. */
  private async parse(config: ContainerConfig, hc: HostConfig): Promise<ParsedMount[]> {
    // '' = no driver asked for: an existing volume keeps its own, a new one is local.
    const volumeDriver = hc.VolumeDriver || '';
    const byDest = new Map<string, ParsedMount>();
    for (const spec of hc.VolumesFrom ?? []) {
      const { container, mode } = parseVolumesFrom(spec);
      const sourceId = this.findContainer(container);
      for (const m of this.deps.store.mounts(sourceId)) {
        if (m.Type === 'tmpfs') continue;
        const record: MountRecord = { ...m, RW: m.RW && mode !== 'ro', copyData: false };
        if (mode) record.Mode = mode;
        byDest.set(m.Destination, { record });
      }
    }
    const explicit = new Set<string>();
    const add = (p: ParsedMount): void => {
      const dest = p.record.Destination;
      if (explicit.has(dest)) throw new InvalidParameter(`Duplicate mount point: ${dest}`);
      explicit.add(dest);
      byDest.set(dest, p);
    };
    for (const b of hc.Binds ?? []) add(parseBind(b, volumeDriver));
    for (const m of (hc.Mounts ?? []) as MountRequest[]) {
      const p = parseMount(m, volumeDriver);
      if (p.record.Type === 'bind' && !p.record.createHostPath && !(await exists(p.record.Source))) {
        throw new InvalidParameter(`invalid mount config for type "bind": bind source path does not exist: ${p.record.Source}`);
      }
      add(p);
    }
    const tmpfs = new Set(parseTmpfs(hc.Tmpfs).map((t) => t.destination));
    for (const raw of Object.keys(config.Volumes ?? {})) {
      if (!raw.startsWith('/')) throw new InvalidParameter(`invalid mount path: '${raw}' mount path must be absolute`);
      const dest = posix.normalize(raw).replace(/(.)\/+$/, '$1');
      if (dest === '/') throw new InvalidParameter(`invalid specification: destination can't be '/'`);
      if (byDest.has(dest) || tmpfs.has(dest)) continue;
      byDest.set(dest, anonymousVolume(dest, volumeDriver));
    }
    return [...byDest.values()];
  }

  async prepare(id: string, config: ContainerConfig, hostConfig: HostConfig): Promise<{ commit(): void; rollback(): Promise<void> }> {
    const parsed = await this.parse(config, hostConfig);
    const created: string[] = [];
    const rollback = async (): Promise<void> => {
      this.deps.store.deleteMounts(id);
      for (const name of created) await removeVolume(this.deps, name).catch((e: unknown) => log.warn('removing a volume made for a failed create failed', { name, error: errorMessage(e) }));
    };
    const records: MountRecord[] = [];
    try {
      for (const p of parsed) {
        const record = { ...p.record };
        if (p.volume) {
          const { volume, created: isNew } = await ensureVolume(this.deps, { ...p.volume, anonymous: p.volume.name === '' }).catch((err: unknown) => {
            // A missing plugin must not read as a missing image (the CLI would try to pull it).
            throw isKind(err, 'NotFound') ? new InvalidParameter(errorMessage(err), { cause: err }) : err;
          });
          if (isNew) created.push(volume.name);
          record.Name = volume.name;
          record.Driver = volume.driver;
        }
        if (record.Type === 'volume' && record.Driver === 'local') record.Source = await this.deps.drivers.local.path(record.Name ?? '');
        records.push(record);
      }
    } catch (err) {
      await rollback();
      throw err;
    }
    return { commit: () => this.deps.store.setMounts(id, records), rollback };
  }

  async mount(rec: ContainerRecord, rootfs: string): Promise<SpecMount[]> {
    const specs: SpecMount[] = [];
    const mounted: ActiveVolume[] = [];
    try {
      for (const m of this.deps.store.mounts(rec.id)) {
        const access = m.RW ? 'rw' : 'ro';
        if (m.Type === 'bind') {
          if (!(await exists(m.Source))) {
            if (!m.createHostPath) throw new InvalidParameter(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
            await mkdir(m.Source, { recursive: true, mode: 0o755 });
          }
          specs.push({ destination: m.Destination, type: 'bind', source: m.Source, options: ['rbind', access, m.Propagation || 'rprivate'] });
        } else if (m.Type === 'tmpfs') {
          specs.push({ destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options: tmpfsSpecOptions(m.tmpfsOptions ?? [], m.RW) });
        } else {
          const name = m.Name ?? '';
          const driverName = m.Driver || 'local';
          const driver = await this.deps.drivers.get(driverName);
          let path = await driver.mount(name, rec.id);
          mounted.push({ name, driver: driverName });
          if (m.subpath) {
            path = joinInside(path, await resolveInScope(path, entryComponents(m.subpath)));
            if (!(await exists(path))) throw new InvalidParameter(`cannot access path ${path}: no such file or directory`);
          }
          if (m.copyData) await copyImageContent(rootfs, m.Destination, path);
          specs.push({ destination: m.Destination, type: 'bind', source: path, options: ['rbind', access, 'rprivate'] });
          this.deps.events.publish('volume', 'mount', name, { container: rec.id, destination: m.Destination, driver: driverName, propagation: m.Propagation, 'read/write': String(m.RW) });
        }
      }
      for (const t of parseTmpfs(rec.hostConfig.Tmpfs)) {
        specs.push({ destination: t.destination, type: 'tmpfs', source: 'tmpfs', options: tmpfsSpecOptions(t.options) });
      }
    } catch (err) {
      await this.unmountAll(rec.id, mounted);
      throw err;
    }
    if (mounted.length) this.active.set(rec.id, mounted);
    return specs;
  }

  private async unmountAll(id: string, volumes: readonly ActiveVolume[]): Promise<void> {
    for (const v of [...volumes].reverse()) {
      try {
        const driver = await this.deps.drivers.get(v.driver);
        await driver.unmount(v.name, id);
        this.deps.events.publish('volume', 'unmount', v.name, { container: id, driver: v.driver });
      } catch (err) {
        log.warn('volume unmount failed', { id, volume: v.name, error: errorMessage(err) });
      }
    }
  }

  async release(id: string): Promise<void> {
    const volumes = this.active.get(id);
    if (!volumes) return;
    this.active.delete(id);
    await this.unmountAll(id, volumes);
  }

  async remove(id: string, opts: { removeAnonymous: boolean }): Promise<void> {
    await this.release(id);
    const records = this.deps.store.mounts(id);
    this.deps.store.deleteMounts(id);
    if (!opts.removeAnonymous) return;
    for (const m of records) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const v = this.deps.store.get(m.Name);
      if (!v?.anonymous) continue;
      await removeVolume(this.deps, m.Name).catch((err: unknown) => {
        // still used through --volumes-from by another container: keep it, as dockerd does
        if (!isKind(err, 'Conflict') && !isKind(err, 'NotFound')) log.warn('removing an anonymous volume failed', { id, volume: m.Name, error: errorMessage(err) });
      });
    }
  }

  mountPoints(id: string): MountPoint[] {
    return this.deps.store.mounts(id).map((m) => {
      const mp: MountPoint = { Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation };
      if (m.Type === 'volume') {
        mp.Name = m.Name;
        mp.Driver = m.Driver;
      }
      return mp;
    });
  }

  async restore(activeIds: readonly string[]): Promise<void> {
    for (const id of activeIds) {
      const volumes: ActiveVolume[] = [];
      for (const m of this.deps.store.mounts(id)) {
        if (m.Type !== 'volume' || !m.Name) continue;
        const driverName = m.Driver || 'local';
        volumes.push({ name: m.Name, driver: driverName });
        try {
          const driver = await this.deps.drivers.get(driverName);
          await driver.adopt?.(m.Name, id);
        } catch (err) {
          log.warn('restore: volume driver unavailable', { id, volume: m.Name, error: errorMessage(err) });
        }
      }
      if (volumes.length) this.active.set(id, volumes);
    }
  }

  async sweep(knownContainers: ReadonlySet<string>): Promise<void> {
    for (const id of this.deps.store.containerIds()) if (!knownContainers.has(id)) this.deps.store.deleteMounts(id);
    const known = new Set(this.deps.store.list().filter((v) => v.driver === 'local').map((v) => v.name));
    await this.deps.drivers.local.sweep?.(known);
  }
}
