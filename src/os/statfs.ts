// What filesystem a path lives on (statfs(2)'s f_type), named as dockerd names it in `info`.
import { mkdtemp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const NAMES: ReadonlyMap<number, string> = new Map([
  [0xef53, 'extfs'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x794c7630, 'overlayfs'],
  [0x2fc12fc1, 'zfs'],
  [0x6969, 'nfs'],
  [0x65735546, 'fuse'],
  [0x5346544e, 'ntfs'],
  [0x4d44, 'msdos'],
  [0xf2f52010, 'f2fs'],
  [0x858458f6, 'ramfs'],
  [0x73717368, 'squashfs'],
]);

export async function backingFilesystem(path: string): Promise<string> {
  const st = await statfs(path);
  const type = Number(st.type) >>> 0;
  return NAMES.get(type) ?? `<unknown> (0x${type.toString(16)})`;
}

/**
 * Whether the filesystem at `dir` fills in d_type in directory entries (overlay needs it; xfs made
 * with ftype=0 does not). Probed with a scratch file: readdir reports its type only from d_type.
 */
export async function supportsDType(dir: string): Promise<boolean> {
  const probe = await mkdtemp(join(dir, '.dtype-'));
  try {
    await writeFile(join(probe, 'f'), '');
    const [ent] = await readdir(probe, { withFileTypes: true });
    return ent?.isFile() ?? false;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}
