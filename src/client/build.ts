// Build area: POST /build (classic builder protocol) and POST /build/prune.
import type { Readable } from 'node:stream';
import type { JSONMessage } from '../types/docker.ts';
import { consumeProgress, type ProgressCallback } from './progress.ts';
import type { Transport } from './transport.ts';

export interface BuildOptions {
  /** `-t`: name[:tag], several allowed. */
  tags?: string[];
  /** Path of the Dockerfile inside the context. */
  dockerfile?: string;
  buildArgs?: Record<string, string | null>;
  labels?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  quiet?: boolean;
  pull?: boolean;
  networkMode?: string;
  platform?: string;
  memory?: number;
  /** Images to use as cache sources (`--cache-from`). */
  cacheFrom?: string[];
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface BuildPruneResponse {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}

export class BuildApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  /**
   * Send a context tar and build. Resolves with the image ID (from the `aux` message); an in-band
   * error rejects with a StreamError whose `code` is the failed RUN's exit code.
   */
  async build(context: Readable, options: BuildOptions = {}): Promise<string> {
    const json = (v: object | undefined): string | undefined => (v && Object.keys(v).length > 0 ? JSON.stringify(v) : undefined);
    const res = await this.transport.request({
      method: 'POST',
      path: '/build',
      query: {
        buildargs: json(options.buildArgs),
        cachefrom: options.cacheFrom?.length ? JSON.stringify(options.cacheFrom) : undefined,
        dockerfile: options.dockerfile,
        labels: json(options.labels),
        memory: options.memory,
        networkmode: options.networkMode,
        nocache: options.noCache || undefined,
        platform: options.platform,
        pull: options.pull || undefined,
        q: options.quiet || undefined,
        t: options.tags?.length ? options.tags : undefined,
        target: options.target,
        version: '1',
      },
      body: context,
      contentType: 'application/x-tar',
      headers: { 'X-Registry-Config': 'e30=' },
      signal: options.signal,
    });
    let id = '';
    await consumeProgress(res, (m: JSONMessage) => {
      const aux = m.aux as { ID?: string } | undefined;
      if (aux?.ID) id = aux.ID;
      options.onProgress?.(m);
    });
    return id;
  }

  prune(options: { all?: boolean } = {}): Promise<BuildPruneResponse> {
    return this.transport.json<BuildPruneResponse>({ method: 'POST', path: '/build/prune', query: { all: options.all || undefined } });
  }
}
