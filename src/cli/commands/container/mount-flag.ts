// `--mount type=volume,source=v,target=/data,readonly,...` into the API's Mount object, as the
// docker CLI parses it (opts/mount.go) before sending the create request.
import { parseBytes } from '../../../lib/units.ts';
import { invalidFlag } from '../../context.ts';

export interface MountFlagValue {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean; NonRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name: string; Options?: Record<string, string> }; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** Split on commas outside double quotes (the flag is a CSV record). */
function csvFields(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((f) => f.trim()).filter((f) => f !== '');
}

function boolValue(v: string | undefined, value: string, key: string): boolean {
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalidFlag(value, '--mount', `invalid value for ${key}: ${v}`);
}

export function parseMountFlag(value: string): MountFlagValue {
  const m: MountFlagValue = { Type: 'volume', Target: '' };
  const vo = (): NonNullable<MountFlagValue['VolumeOptions']> => (m.VolumeOptions ??= {});
  const bo = (): NonNullable<MountFlagValue['BindOptions']> => (m.BindOptions ??= {});
  const to = (): NonNullable<MountFlagValue['TmpfsOptions']> => (m.TmpfsOptions ??= {});
  let typeSeen = false;
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    const need = (): string => {
      if (val === undefined) throw invalidFlag(value, '--mount', `invalid field '${field}' must be a key=value pair`);
      return val;
    };
    switch (key) {
      case 'type': {
        const t = need();
        if (t !== 'bind' && t !== 'volume' && t !== 'tmpfs') throw invalidFlag(value, '--mount', `invalid value for type: ${t}`);
        m.Type = t;
        typeSeen = true;
        break;
      }
      case 'source':
      case 'src':
        m.Source = need();
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = need();
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = boolValue(val, value, key);
        break;
      case 'consistency':
        need();
        break;
      case 'bind-propagation':
        bo().Propagation = need();
        break;
      case 'bind-nonrecursive':
        bo().NonRecursive = boolValue(val, value, key);
        break;
      case 'bind-create-mountpoint':
        bo().CreateMountpoint = boolValue(val, value, key);
        break;
      case 'volume-nocopy':
        vo().NoCopy = boolValue(val, value, key);
        break;
      case 'volume-label': {
        const l = need();
        const i = l.indexOf('=');
        (vo().Labels ??= {})[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
        break;
      }
      case 'volume-driver':
        vo().DriverConfig = { ...(vo().DriverConfig ?? {}), Name: need() };
        break;
      case 'volume-opt': {
        const o = need();
        const i = o.indexOf('=');
        const dc = (vo().DriverConfig ??= { Name: '' });
        (dc.Options ??= {})[i < 0 ? o : o.slice(0, i)] = i < 0 ? '' : o.slice(i + 1);
        break;
      }
      case 'volume-subpath':
        vo().Subpath = need();
        break;
      case 'tmpfs-size':
        try {
          to().SizeBytes = parseBytes(need());
        } catch (err) {
          throw invalidFlag(value, '--mount', `invalid value for ${key}: ${(err as Error).message}`);
        }
        break;
      case 'tmpfs-mode': {
        const mode = Number.parseInt(need(), 8);
        if (!Number.isFinite(mode)) throw invalidFlag(value, '--mount', `invalid value for ${key}: ${val}`);
        to().Mode = mode;
        break;
      }
      default:
        throw invalidFlag(value, '--mount', `unexpected key '${key}' in '${field}'`);
    }
  }
  void typeSeen;
  if (!m.Target) throw invalidFlag(value, '--mount', 'target is required');
  if (m.Type !== 'volume' && m.VolumeOptions) throw invalidFlag(value, '--mount', `cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.Type !== 'bind' && m.BindOptions) throw invalidFlag(value, '--mount', `cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.Type !== 'tmpfs' && m.TmpfsOptions) throw invalidFlag(value, '--mount', `cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  return m;
}
