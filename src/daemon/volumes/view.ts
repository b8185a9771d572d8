import type { Volume } from '../../types/volumes.ts';
import type { VolumeRecord } from '../../volumes/store.ts';
import type { VolumeDeps } from './deps.ts';

/** RFC 3339 in seconds, as dockerd prints a volume's CreatedAt. */
export function createdAt(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The API shape of a volume: the record plus what its driver knows (mountpoint, status, scope). */
export async function volumeView(deps: VolumeDeps, v: VolumeRecord): Promise<Volume> {
  const out: Volume = {
    CreatedAt: createdAt(v.created),
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: '',
    Name: v.name,
    Options: v.options,
    Scope: 'local',
  };
  try {
    const driver = await deps.drivers.get(v.driver);
    out.Scope = await driver.scope();
    if (v.driver === 'local') {
      out.Mountpoint = await driver.path(v.name);
    } else {
      const got = await driver.get(v.name);
      out.Mountpoint = got?.mountpoint ?? '';
      if (got?.status) out.Status = got.status;
    }
  } catch {
    // A plugin that is gone: still list the volume, as dockerd does.
  }
  return out;
}
