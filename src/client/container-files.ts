// Container files and images made from containers: commit, changes (diff), archive (cp), export,
// and container prune. Kept beside ContainersApi (client.containerFiles) to keep each module small.
import type { HttpResponse } from './http1.ts';
import type { Readable } from 'node:stream';
import type { ContainerChange, ContainerPathStat, ContainersPruneResponse } from '../types/docker.ts';
import { encodeFilters, type FilterMap } from './filters.ts';
import type { Transport } from './transport.ts';

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Pause the container while committing (default true, as docker). */
  pause?: boolean;
  /** Dockerfile lines: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR. */
  changes?: string[];
}

export interface ArchiveResult {
  stat: ContainerPathStat;
  /** The tar stream (rooted at the path's basename). */
  tar: HttpResponse;
}

export interface PutArchiveOptions {
  /** Fail instead of replacing a directory with a non-directory or the reverse. */
  noOverwriteDirNonDir?: boolean;
  /** Keep the archive's uid/gid (`cp -a`). */
  copyUIDGID?: boolean;
}

/** Decode the X-Docker-Container-Path-Stat header. */
export function decodePathStat(header: string | string[] | undefined): ContainerPathStat {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) throw new Error('the daemon sent no X-Docker-Container-Path-Stat header');
  return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as ContainerPathStat;
}

export class ContainerFilesApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** POST /commit: a new image from the container's changes; resolves with the image ID. */
  async commit(container: string, options: CommitOptions = {}): Promise<string> {
    const res = await this.transport.json<{ Id: string }>({
      method: 'POST',
      path: '/commit',
      query: {
        container,
        repo: options.repo,
        tag: options.tag,
        comment: options.comment ?? '',
        author: options.author ?? '',
        pause: options.pause === false ? false : undefined,
        changes: options.changes && options.changes.length > 0 ? options.changes : undefined,
      },
    });
    return res.Id;
  }

  /** GET /containers/{id}/changes (Kind 0 modified, 1 added, 2 deleted). */
  async changes(container: string): Promise<ContainerChange[]> {
    return (await this.transport.json<ContainerChange[] | null>({ path: `/containers/${enc(container)}/changes` })) ?? [];
  }

  /** HEAD /containers/{id}/archive: stat a path inside the container. */
  async statPath(container: string, path: string): Promise<ContainerPathStat> {
    const res = await this.transport.request({ method: 'HEAD', path: `/containers/${enc(container)}/archive`, query: { path } });
    res.resume();
    return decodePathStat(res.headers['x-docker-container-path-stat']);
  }

  /** GET /containers/{id}/archive: a tar of a path inside the container. */
  async getArchive(container: string, path: string): Promise<ArchiveResult> {
    const res = await this.transport.request({ path: `/containers/${enc(container)}/archive`, query: { path } });
    return { stat: decodePathStat(res.headers['x-docker-container-path-stat']), tar: res };
  }

  /** PUT /containers/{id}/archive: extract a tar into a directory inside the container. */
  async putArchive(container: string, path: string, tar: Readable, options: PutArchiveOptions = {}): Promise<void> {
    await this.transport.send({
      method: 'PUT',
      path: `/containers/${enc(container)}/archive`,
      query: { path, noOverwriteDirNonDir: options.noOverwriteDirNonDir || undefined, copyUIDGID: options.copyUIDGID || undefined },
      body: tar,
      contentType: 'application/x-tar',
    });
  }

  /** GET /containers/{id}/export: the container's whole filesystem as a tar. */
  export(container: string): Promise<HttpResponse> {
    return this.transport.request({ path: `/containers/${enc(container)}/export` });
  }

  /** POST /containers/prune: remove stopped containers (filters: until, label, label!). */
  async prune(filters?: FilterMap): Promise<ContainersPruneResponse> {
    return this.transport.json<ContainersPruneResponse>({ method: 'POST', path: '/containers/prune', query: { filters: encodeFilters(filters) } });
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}
