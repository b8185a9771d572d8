// Extended attributes through @napi-rs/xattr (l*xattr: a symlink's own attributes, never its
// target's). Loaded on first use so a daemon that never archives does not map the native module.

type XattrModule = typeof import('@napi-rs/xattr');
let mod: Promise<XattrModule> | undefined;
function xattr(): Promise<XattrModule> {
  return (mod ??= import('@napi-rs/xattr'));
}

const IGNORED = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENODATA', 'EPERM', 'EACCES', 'ENOENT']);

function ignorable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code && IGNORED.has(e.code)) return true;
  return /not supported|No data available|Operation not permitted|No such file/i.test(e.message ?? '');
}

/** All extended attributes of `path` (not following a final symlink); empty where unsupported. */
export async function readXattrs(path: string): Promise<Map<string, Buffer>> {
  const x = await xattr();
  const out = new Map<string, Buffer>();
  let names: string[];
  try {
    names = await x.listAttributes(path);
  } catch (err) {
    if (ignorable(err)) return out;
    throw err;
  }
  for (const name of names) {
    try {
      const v = await x.getAttribute(path, name);
      if (v) out.set(name, v);
    } catch (err) {
      if (!ignorable(err)) throw err;
    }
  }
  return out;
}

/** Set one extended attribute on `path` (not following a final symlink); false where unsupported. */
export async function writeXattr(path: string, name: string, value: Buffer): Promise<boolean> {
  const x = await xattr();
  try {
    await x.setAttribute(path, name, value);
    return true;
  } catch (err) {
    if (ignorable(err)) return false;
    throw err;
  }
}
