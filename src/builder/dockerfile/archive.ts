// ADD's local archive rule: a tar (plain or gzip) from the context is unpacked into the destination
// instead of being copied. Entries are checked like any archive (no `..`, no absolute escapes).
import { open, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { entryComponents } from '../../lib/safepath.ts';
import type { LayerEntry } from '../copy.ts';
import type { TreeEntry } from '../fs.ts';

const MAX_ARCHIVE = 512 * 1024 * 1024;

async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function isTar(buf: Buffer): boolean {
  return buf.length >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar';
}

/** The entries of `e` if it is a tar archive (plain or gzip), else undefined (copy it as a file). */
export async function extractArchive(e: TreeEntry, owner?: { uid: number; gid: number }): Promise<LayerEntry[] | undefined> {
  if (e.type !== 'file' || e.size < 2 || e.size > MAX_ARCHIVE) return undefined;
  const first = await head(e.hostPath, 2);
  let data: Buffer;
  if (first[0] === 0x1f && first[1] === 0x8b) {
    try {
      data = gunzipSync(await readFile(e.hostPath));
    } catch {
      return undefined;
    }
  } else {
    const h = await head(e.hostPath, 262);
    if (!isTar(h)) return undefined;
    data = await readFile(e.hostPath);
  }
  if (!isTar(data.subarray(0, 262))) return undefined;
  const out: LayerEntry[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        try {
          const parts = entryComponents(h.name);
          if (parts.length > 0) {
            const base = { path: parts.join('/'), mode: (h.mode ?? 0o644) & 0o7777, uid: owner?.uid ?? h.uid ?? 0, gid: owner?.gid ?? h.gid ?? 0, mtime: h.mtime ?? new Date(0) };
            if (h.type === 'directory') out.push({ ...base, type: 'dir', size: 0 });
            else if (h.type === 'file' || h.type === 'contiguous-file') {
              const body = Buffer.concat(chunks);
              out.push({ ...base, type: 'file', data: body, size: body.length });
            } else if (h.type === 'symlink') out.push({ ...base, type: 'symlink', linkname: h.linkname ?? '', size: 0 });
          }
          next();
        } catch (err) {
          reject(err);
        }
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([data]).pipe(extract);
  await done;
  return out;
}
