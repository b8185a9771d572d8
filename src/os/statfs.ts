// What filesystem a path lives on (statfs(2)'s f_type), named as dockerd names it in `info`.
import { statfs } from 'node:fs/promises';

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
