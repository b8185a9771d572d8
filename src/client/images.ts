// Images area of the Engine API.
import type { Readable } from 'node:stream';
import type { ImageDeleteItem, ImageHistoryItem, ImageInspect, ImageSummary, JSONMessage } from '../types/docker.ts';
import { encodeFilters, type FilterMap } from './filters.ts';
import { consumeProgress, type ProgressCallback } from './progress.ts';
import type { Transport } from './transport.ts';

export interface ImageListOptions {
  all?: boolean;
  digests?: boolean;
  filters?: FilterMap;
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  /** Dockerfile instructions applied to the config (`CMD ["sh"]`, `ENV A=b`). */
  changes?: string[];
  platform?: string;
  onProgress?: ProgressCallback;
}

export interface PullOptions {
  tag?: string;
  platform?: string;
  /** base64url JSON credentials; `e30=` ({}) when anonymous. */
  registryAuth?: string;
  onProgress?: ProgressCallback;
}

export interface PushOptions {
  tag?: string;
  /** base64url JSON credentials; `e30=` ({}) when anonymous. */
  registryAuth?: string;
  onProgress?: ProgressCallback;
}

/** The aux message that ends a push: what the registry now holds under the tag. */
export interface PushResult {
  Tag: string;
  Digest: string;
  Size: number;
}

export interface LoadOptions {
  quiet?: boolean;
  onProgress?: ProgressCallback;
}

export class ImagesApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  list(options: ImageListOptions = {}): Promise<ImageSummary[]> {
    return this.transport.json<ImageSummary[]>({
      path: '/images/json',
      query: { all: options.all || undefined, digests: options.digests || undefined, filters: encodeFilters(options.filters) },
    });
  }

  inspect(name: string): Promise<ImageInspect> {
    return this.transport.json<ImageInspect>({ path: `/images/${imagePath(name)}/json` });
  }

  history(name: string): Promise<ImageHistoryItem[]> {
    return this.transport.json<ImageHistoryItem[]>({ path: `/images/${imagePath(name)}/history` });
  }

  async tag(source: string, target: { repo: string; tag?: string }): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/images/${imagePath(source)}/tag`, query: { repo: target.repo, tag: target.tag } });
  }

  async remove(name: string, options: { force?: boolean; noPrune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    const items = await this.transport.json<ImageDeleteItem[] | undefined>({
      method: 'DELETE',
      path: `/images/${imagePath(name)}`,
      query: { force: options.force || undefined, noprune: options.noPrune || undefined },
    });
    return items ?? [];
  }

  /**
   * Import a rootfs tarball as an image (POST /images/create?fromSrc=-). Resolves with the last
   * status message, which is the new image ID; an in-band errorDetail rejects.
   */
  async import(tar: Readable, options: ImportOptions = {}): Promise<string> {
    const res = await this.transport.request({
      method: 'POST',
      path: '/images/create',
      query: {
        changes: options.changes?.length ? options.changes : undefined,
        fromSrc: '-',
        message: options.message,
        platform: options.platform,
        repo: options.repo,
        tag: options.tag,
      },
      body: tar,
      contentType: 'text/plain',
    });
    const last = await consumeProgress(res, options.onProgress);
    return last?.status?.trim() ?? '';
  }

  /** Pull an image (POST /images/create?fromImage=…); an in-band errorDetail rejects. */
  async pull(fromImage: string, options: PullOptions = {}): Promise<JSONMessage | undefined> {
    const res = await this.transport.request({
      method: 'POST',
      path: '/images/create',
      query: { fromImage, platform: options.platform, tag: options.tag },
      headers: { 'X-Registry-Auth': options.registryAuth ?? 'e30=' },
    });
    return consumeProgress(res, options.onProgress);
  }

  /** Push `name` (POST /images/{name}/push); resolves with the last aux (tag, digest, size). */
  async push(name: string, options: PushOptions = {}): Promise<PushResult | undefined> {
    const res = await this.transport.request({
      method: 'POST',
      path: `/images/${imagePath(name)}/push`,
      query: { tag: options.tag },
      headers: { 'X-Registry-Auth': options.registryAuth ?? 'e30=' },
    });
    let aux: PushResult | undefined;
    await consumeProgress(res, (m) => {
      if (m.aux && typeof m.aux === 'object' && 'Digest' in m.aux) aux = m.aux as PushResult;
      options.onProgress?.(m);
    });
    return aux;
  }

  /** `docker save`: a tar stream of the named images (GET /images/get). */
  save(names: string[]): Promise<Readable> {
    return this.transport.request({ path: '/images/get', query: { names } });
  }

  /** `docker load`: send an image archive; resolves with the "Loaded image" lines. */
  async load(tar: Readable, options: LoadOptions = {}): Promise<string[]> {
    const res = await this.transport.request({ method: 'POST', path: '/images/load', query: { quiet: options.quiet ? '1' : '0' }, body: tar, contentType: 'application/x-tar' });
    const loaded: string[] = [];
    await consumeProgress(res, (m) => {
      if (m.stream) loaded.push(m.stream.trim());
      options.onProgress?.(m);
    });
    return loaded.filter((l) => l.startsWith('Loaded image'));
  }
}

/** Image references go into paths unescaped apart from what would break the URL (docker: `/images/reg:5000/a/b/push`). */
export function imagePath(name: string): string {
  return encodeURI(name).replace(/[?#]/g, encodeURIComponent);
}
