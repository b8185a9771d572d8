// The build context as the docker CLI sends it: a tar of the context directory without what
// .dockerignore excludes (the Dockerfile and .dockerignore always go), owned by 0:0.
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { dockerignoreMatcher, parseDockerignore } from '../lib/dockerignore.ts';

export interface ContextTarOptions {
  /** Context-relative path of the Dockerfile (always sent). */
  dockerfile?: string;
  /** Extra files placed at the context root (a Dockerfile given with `-f -` or from outside). */
  extra?: Array<{ name: string; data: Buffer }>;
}

async function readIgnore(dir: string): Promise<string[]> {
  try {
    return parseDockerignore(await readFile(join(dir, '.dockerignore'), 'utf8'));
  } catch {
    return [];
  }
}

/** Stream a tar of `dir`; entries are visited sorted, so the same tree gives the same tar. */
export async function contextTar(dir: string, opts: ContextTarOptions = {}): Promise<Readable> {
  const patterns = await readIgnore(dir);
  const ignored = dockerignoreMatcher(patterns, [opts.dockerfile ?? 'Dockerfile', '.dockerignore']);
  // Without `!` exceptions an excluded directory is skipped whole, not walked.
  const hasExceptions = patterns.some((p) => p.startsWith('!'));
  const pack = tar.pack();
  const add = (header: Partial<tar.Header> & { name: string }, body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => (body ? pack.entry(header, body, (err) => (err ? reject(err) : resolve())) : pack.entry(header, (err) => (err ? reject(err) : resolve()))));
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort();
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const path = join(dir, childRel);
      const st = await lstat(path);
      if (ignored(childRel)) {
        // Exceptions (`!`) may still pick files below an excluded directory.
        if (st.isDirectory() && hasExceptions) await walk(childRel);
        continue;
      }
      const base = { mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: st.mtime, uname: '', gname: '' };
      if (st.isDirectory()) {
        await add({ ...base, name: childRel + '/', type: 'directory' });
        await walk(childRel);
      } else if (st.isSymbolicLink()) {
        await add({ ...base, name: childRel, type: 'symlink', linkname: await readlink(path) });
      } else if (st.isFile()) {
        const sink = pack.entry({ ...base, name: childRel, type: 'file', size: st.size });
        await pipeline(createReadStream(path), sink);
      }
    }
  };
  void (async () => {
    try {
      await walk('');
      for (const x of opts.extra ?? []) await add({ name: x.name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date() }, x.data);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return pack as unknown as Readable;
}

/** A one-file context (`docker build - < Dockerfile`). */
export function dockerfileOnlyTar(data: Buffer): Readable {
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date() }, data);
  pack.finalize();
  return pack as unknown as Readable;
}
