// The reference the builder's in-memory context (src/builder/context/tree.ts) is tested against:
// how berthd unpacked a build context before it indexed it (until session 3 this was its code).
// The build context: the request's tar (plain, gzip or zstd) unpacked into a private directory.
// Every entry is placed with the same rules as layers (src/lib/safepath.ts): `..` is refused, and
// symlinks met on the way are followed as if the context directory were `/`, so neither a
// `../../etc/passwd` entry nor a `link -> /` symlink followed by `link/etc/x` can write outside it.
// Later reads (COPY sources, the Dockerfile) resolve paths the same way.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidParameter } from '../../src/lib/errors.ts';
import type { IgnoreMatcher } from '../../src/lib/dockerignore.ts';
import { entryComponents, joinInside, resolveParentInScope } from '../../src/lib/safepath.ts';
import { decompressStream } from '../../src/store/diff/compression.ts';

/** What arrived: bytes of regular files and the number of entries. */
export interface ExtractStats {
  entries: number;
  bytes: number;
  /** sha256 of each regular file's content by host path, computed while unpacking (for COPY checksums). */
  digests: Map<string, string>;
}

const WRITE_BATCH = 1 << 20;

async function drain(entry: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of entry) {
    // discard
  }
}

/** Unpack a context tar into `dir` (which must exist and be empty). Throws InvalidParameter on a hostile entry. */
export async function extractContext(src: Readable, dir: string): Promise<ExtractStats> {
  const extract = tar.extract();
  const feeding = pipeline(decompressStream(src), extract);
  feeding.catch(() => undefined);
  const digests = new Map<string, string>();
  const stats: ExtractStats = { entries: 0, bytes: 0, digests };
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const body = entry as unknown as AsyncIterable<Buffer>;
      const parts = entryComponents(h.name);
      stats.entries++;
      if (parts.length === 0) {
        await drain(body);
        continue;
      }
      const resolved = await resolveParentInScope(dir, parts);
      const path = joinInside(dir, resolved);
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      const existing = await lstat(path).catch(() => undefined);
      if (existing && !(existing.isDirectory() && h.type === 'directory')) await rm(path, { recursive: true, force: true });
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case 'directory':
          if (!existing?.isDirectory()) await mkdir(path, { mode: 0o755 });
          await chmod(path, mode | 0o700);
          await drain(body);
          break;
        case 'file':
        case 'contiguous-file': {
          const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
          const hash = createHash('sha256');
          try {
            // Gather chunks and write them in few, large writes (tar-stream hands out small ones).
            let pending: Buffer[] = [];
            let pendingBytes = 0;
            for await (const chunk of body) {
              hash.update(chunk);
              pending.push(chunk);
              pendingBytes += chunk.length;
              stats.bytes += chunk.length;
              if (pendingBytes >= WRITE_BATCH) {
                await fh.writev(pending);
                pending = [];
                pendingBytes = 0;
              }
            }
            if (pending.length > 0) await fh.writev(pending);
          } finally {
            await fh.close();
          }
          await chmod(path, mode); // open()'s mode is masked by the umask
          digests.set(path, 'sha256:' + hash.digest('hex'));
          break;
        }
        case 'symlink':
          await drain(body);
          // Kept verbatim (even absolute): readers resolve it inside the context.
          await symlink(h.linkname ?? '', path);
          break;
        case 'link': {
          await drain(body);
          const target = joinInside(dir, await resolveParentInScope(dir, entryComponents(h.linkname ?? '')));
          const st = await lstat(target).catch(() => undefined);
          if (!st?.isFile()) throw new InvalidParameter(`invalid hardlink in build context: ${h.name} -> ${h.linkname}`);
          await link(target, path);
          break;
        }
        default:
          // Devices and FIFOs have no place in a build context.
          await drain(body);
      }
    }
    await feeding;
  } catch (err) {
    extract.destroy();
    src.destroy();
    if (err instanceof Error && !(err instanceof InvalidParameter) && /tar|header|Unexpected end/i.test(err.message)) {
      throw new InvalidParameter(`the build context is not a valid tar archive: ${err.message}`, { cause: err });
    }
    throw err;
  }
  return stats;
}

/**
 * Remove what .dockerignore excludes (the client should not have sent it; an API client might),
 * so that COPY and the cache checksums never see it. `keep` names paths that stay (Dockerfile).
 */
export async function applyIgnore(dir: string, ignored: IgnoreMatcher): Promise<void> {
  const walk = async (rel: string): Promise<void> => {
    for (const ent of await readdir(join(dir, rel), { withFileTypes: true })) {
      const childRel = rel === '' ? ent.name : `${rel}/${ent.name}`;
      if (ignored(childRel)) {
        // A directory may hold `!` exceptions: descend and remove only what stays excluded.
        if (ent.isDirectory()) {
          await walk(childRel);
          const left = await readdir(join(dir, childRel));
          if (left.length === 0) await rm(join(dir, childRel), { recursive: true, force: true });
        } else await rm(join(dir, childRel), { force: true });
      } else if (ent.isDirectory()) await walk(childRel);
    }
  };
  await walk('');
}
