import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Volume } from '../../types/volumes.ts';
import type { VolumeDeps } from './deps.ts';
import { volumeView } from './view.ts';

/** Bytes of the files below dir (blocks actually used, as `du`), not following symlinks. */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const ent of entries) {
      const p = join(d, ent.name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      if (ent.isDirectory()) await walk(p);
      else total += st.size;
    }
  };
  await walk(dir);
  return total;
}

/**
 * Volumes with UsageData (size and number of containers using them), for `system df`. Sizes are
 * known for local volumes only (-1 for plugins, as dockerd reports).
 */
export async function volumesUsage(deps: VolumeDeps): Promise<Volume[]> {
  const refs = deps.store.refCounts();
  const out: Volume[] = [];
  for (const v of deps.store.list()) {
    const view = await volumeView(deps, v);
    const size = v.driver === 'local' && !v.options ? await dirSize(view.Mountpoint) : -1;
    view.UsageData = { Size: size, RefCount: refs.get(v.name) ?? 0 };
    out.push(view);
  }
  return out;
}
