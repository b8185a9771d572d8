// Parsing of the ways a container asks for mounts (`Binds`, `Mounts`, `Tmpfs`, `VolumesFrom`,
// `Config.Volumes`) into one list of MountRecords, with dockerd's rules and error texts (moby
// volume/mounts/linux_parser.go). Pure: no I/O; the daemon resolves names and creates volumes.
import { isAbsolute, posix } from 'node:path';
import { InvalidParameter } from '../lib/errors.ts';
import type { MountSpec } from '../types/docker.ts';
import { VOLUME_NAME_RE } from './driver.ts';
import type { MountRecord } from './store.ts';

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const LABEL_MODES = new Set(['z', 'Z']);
export const DEFAULT_PROPAGATION = 'rprivate';

/** A named or anonymous volume the container needs (created when missing). */
export interface VolumeWanted {
  /** '' for an anonymous volume (the daemon picks a random name). */
  name: string;
  driver: string;
  driverOptions: Record<string, string>;
  labels: Record<string, string>;
}

export interface ParsedMount {
  record: MountRecord;
  /** Set for type volume: what to create if the volume does not exist. */
  volume?: VolumeWanted;
}

/** The `--mount` shape with the option groups the docker CLI sends. */
export interface MountRequest extends MountSpec {
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null };
}

function cleanDestination(dest: string, spec: string): string {
  if (!dest) throw new InvalidParameter(`invalid volume specification: '${spec}'`);
  if (!isAbsolute(dest)) throw new InvalidParameter(`invalid volume specification: '${spec}': invalid mount config for type "volume": invalid mount path: '${dest}' mount path must be absolute`);
  const clean = posix.normalize(dest).replace(/(.)\/+$/, '$1');
  if (clean === '/') throw new InvalidParameter(`invalid specification: destination can't be '/'`);
  return clean;
}

/** The mode part of `-v src:dst:mode`: ro|rw, z|Z, nocopy, one propagation. */
function parseMode(mode: string, spec: string): { rw: boolean; nocopy: boolean; propagation: string; label: string } {
  const out = { rw: true, nocopy: false, propagation: '', label: '' };
  let rwSeen = false;
  for (const m of mode.split(',')) {
    if (m === 'ro' || m === 'rw') {
      if (rwSeen) throw new InvalidParameter(`invalid mode: ${mode}`);
      rwSeen = true;
      out.rw = m === 'rw';
    } else if (LABEL_MODES.has(m)) {
      if (out.label) throw new InvalidParameter(`invalid mode: ${mode}`);
      out.label = m;
    } else if (m === 'nocopy') {
      if (out.nocopy) throw new InvalidParameter(`invalid mode: ${mode}`);
      out.nocopy = true;
    } else if (PROPAGATIONS.has(m)) {
      if (out.propagation) throw new InvalidParameter(`invalid mode: ${mode}`);
      out.propagation = m;
    } else {
      throw new InvalidParameter(`invalid volume specification: '${spec}': invalid mode: ${mode}`);
    }
  }
  return out;
}

/** Split `src:dst[:mode]` (Linux: no drive letters, so a plain split). */
function splitBind(spec: string): string[] {
  const parts = spec.split(':');
  if (parts.length < 1 || parts.length > 3 || parts.some((p, i) => p === '' && !(i === 0 && parts.length === 1))) {
    throw new InvalidParameter(`invalid volume specification: '${spec}'`);
  }
  return parts;
}

/** One entry of HostConfig.Binds (`-v`). A source that is not an absolute path names a volume. */
export function parseBind(spec: string, volumeDriver: string): ParsedMount {
  const parts = splitBind(spec);
  if (parts.length === 1) {
    // `-v /path` arrives in Config.Volumes, but the API accepts it here too.
    const dest = cleanDestination(parts[0], spec);
    return anonymousVolume(dest, volumeDriver);
  }
  const [source, rawDest, mode = ''] = parts;
  const dest = cleanDestination(rawDest, spec);
  const m = mode ? parseMode(mode, spec) : { rw: true, nocopy: false, propagation: '', label: '' };
  if (isAbsolute(source)) {
    if (m.nocopy) throw new InvalidParameter(`invalid volume specification: '${spec}': invalid mode: ${mode}`);
    return {
      record: {
        Type: 'bind',
        Source: posix.normalize(source).replace(/(.)\/+$/, '$1'),
        Destination: dest,
        Mode: mode,
        RW: m.rw,
        Propagation: m.propagation || DEFAULT_PROPAGATION,
        createHostPath: true,
      },
    };
  }
  if (source.startsWith('.') || source.includes('/')) {
    throw new InvalidParameter(`create ${source}: "${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  validateVolumeName(source);
  if (m.propagation) throw new InvalidParameter(`invalid volume specification: '${spec}': invalid mode: ${mode}`);
  return {
    record: { Type: 'volume', Name: source, Source: '', Destination: dest, Driver: volumeDriver, Mode: mode || 'z', RW: m.rw, Propagation: '', copyData: !m.nocopy },
    volume: { name: source, driver: volumeDriver, driverOptions: {}, labels: {} },
  };
}

export function validateVolumeName(name: string): void {
  if (!VOLUME_NAME_RE.test(name)) {
    throw new InvalidParameter(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

export function anonymousVolume(dest: string, volumeDriver: string): ParsedMount {
  return {
    record: { Type: 'volume', Name: '', Source: '', Destination: dest, Driver: volumeDriver, Mode: '', RW: true, Propagation: '', copyData: true },
    volume: { name: '', driver: volumeDriver, driverOptions: {}, labels: {} },
  };
}

function mountError(type: string, msg: string): InvalidParameter {
  return new InvalidParameter(`invalid mount config for type "${type}": ${msg}`);
}

/** One entry of HostConfig.Mounts (`--mount`). Whether a bind source exists is checked by the caller. */
export function parseMount(m: MountRequest, volumeDriver: string): ParsedMount {
  const type = m.Type;
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new InvalidParameter(`mount type unknown: "${String(type)}"`);
  if (!m.Target) throw mountError(type, 'field Target must not be empty');
  if (!isAbsolute(m.Target)) throw mountError(type, `invalid mount path: '${m.Target}' mount path must be absolute`);
  const dest = posix.normalize(m.Target).replace(/(.)\/+$/, '$1');
  if (dest === '/') throw new InvalidParameter(`invalid specification: destination can't be '/'`);
  const rw = !m.ReadOnly;
  if (type === 'bind') {
    if (!m.Source) throw mountError(type, 'field Source must not be empty');
    if (!isAbsolute(m.Source)) throw mountError(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
    if (m.VolumeOptions) throw mountError(type, 'field VolumeOptions must not be specified');
    if (m.TmpfsOptions) throw mountError(type, 'field TmpfsOptions must not be specified');
    const propagation = m.BindOptions?.Propagation || DEFAULT_PROPAGATION;
    if (!PROPAGATIONS.has(propagation)) throw mountError(type, `invalid propagation mode: ${propagation}`);
    return {
      record: { Type: 'bind', Source: posix.normalize(m.Source), Destination: dest, Mode: '', RW: rw, Propagation: propagation, createHostPath: !!m.BindOptions?.CreateMountpoint },
    };
  }
  if (type === 'tmpfs') {
    if (m.Source) throw mountError(type, 'field Source must not be specified');
    if (m.BindOptions) throw mountError(type, 'field BindOptions must not be specified');
    if (m.VolumeOptions) throw mountError(type, 'field VolumeOptions must not be specified');
    const options: string[] = [];
    const size = m.TmpfsOptions?.SizeBytes;
    if (size !== undefined && size !== 0) {
      if (!Number.isInteger(size) || size < 0) throw mountError(type, `invalid tmpfs size: ${size}`);
      options.push(`size=${tmpfsSize(size)}`);
    }
    const mode = m.TmpfsOptions?.Mode;
    if (mode !== undefined && mode !== 0) options.push(`mode=${(mode & 0o7777).toString(8)}`);
    for (const o of m.TmpfsOptions?.Options ?? []) options.push(o.length > 1 ? `${o[0]}=${o[1]}` : o[0]);
    return { record: { Type: 'tmpfs', Source: '', Destination: dest, Mode: '', RW: rw, Propagation: '', tmpfsOptions: options } };
  }
  // volume
  if (m.BindOptions) throw mountError(type, 'field BindOptions must not be specified');
  if (m.TmpfsOptions) throw mountError(type, 'field TmpfsOptions must not be specified');
  const vo = m.VolumeOptions ?? {};
  const driver = vo.DriverConfig?.Name || volumeDriver;
  const name = m.Source ?? '';
  if (name) validateVolumeName(name);
  const subpath = vo.Subpath ?? '';
  if (subpath && (isAbsolute(subpath) || posix.normalize(subpath).startsWith('..'))) throw mountError(type, `subpath must be a relative path within the volume`);
  const record: MountRecord = { Type: 'volume', Name: name, Source: '', Destination: dest, Driver: driver, Mode: '', RW: rw, Propagation: '', copyData: !vo.NoCopy && !subpath };
  if (subpath) record.subpath = posix.normalize(subpath);
  return {
    record,
    volume: { name, driver, driverOptions: { ...(vo.DriverConfig?.Options ?? {}) }, labels: { ...(vo.Labels ?? {}) } },
  };
}

/** tmpfs takes a byte count with k/m/g suffixes; keep exact bytes unless they divide evenly. */
function tmpfsSize(bytes: number): string {
  for (const [suffix, unit] of [['g', 1 << 30], ['m', 1 << 20], ['k', 1 << 10]] as const) {
    if (bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

/** HostConfig.Tmpfs (`--tmpfs /run:size=1m,mode=1777`): destination → mount options. */
export function parseTmpfs(tmpfs: Record<string, string> | null | undefined): Array<{ destination: string; options: string[] }> {
  const out: Array<{ destination: string; options: string[] }> = [];
  for (const [dest, opts] of Object.entries(tmpfs ?? {})) {
    if (!isAbsolute(dest)) throw new InvalidParameter(`invalid mount path: '${dest}' mount path must be absolute`);
    const clean = posix.normalize(dest).replace(/(.)\/+$/, '$1');
    if (clean === '/') throw new InvalidParameter(`invalid specification: destination can't be '/'`);
    out.push({ destination: clean, options: opts ? opts.split(',').filter(Boolean) : [] });
  }
  return out;
}

/** One `--volumes-from ctr[:ro|:rw]` entry. */
export function parseVolumesFrom(spec: string): { container: string; mode: '' | 'ro' | 'rw' } {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) return { container: spec, mode: '' };
  const mode = spec.slice(colon + 1);
  const container = spec.slice(0, colon);
  if (mode !== 'ro' && mode !== 'rw') throw new InvalidParameter(`invalid mode for volumes-from: ${mode}`);
  if (!container) throw new InvalidParameter(`invalid volumes-from specification: '${spec}'`);
  return { container, mode };
}

/**
 * The mount options a tmpfs gets in the OCI spec (moby's oci_linux.go: noexec, nosuid, nodev and
 * the default propagation, then the user's options; a later size/mode wins).
 */
export function tmpfsSpecOptions(user: readonly string[], rw = true): string[] {
  const base = ['noexec', 'nosuid', 'nodev', DEFAULT_PROPAGATION];
  const merged = new Map<string, string>();
  for (const o of [...base, ...user]) {
    const key = o.includes('=') ? o.slice(0, o.indexOf('=')) : o;
    // exec/suid/dev given by the user cancel the defaults
    if (key === 'exec') merged.delete('noexec');
    else if (key === 'suid') merged.delete('nosuid');
    else if (key === 'dev') merged.delete('nodev');
    merged.set(key, o);
  }
  if (!rw) merged.set('ro', 'ro');
  return [...merged.values()];
}
