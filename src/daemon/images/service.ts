import type { Readable } from 'node:stream';
import type { ImageDeleteItem, ImageHistoryItem, ImageInspect, ImageSummary } from '../../types/docker.ts';
import type { ImageServiceDeps } from './deps.ts';
import { imageHistory } from './history.ts';
import { importImage, importTarget, type ImportImageParams } from './import.ts';
import { inspectImage } from './inspect.ts';
import { listImages, type ListImagesParams } from './list.ts';
import type { AuthResult } from './login.ts';
import type { ProgressSink } from './progress.ts';
import type { PullParams, PullPlan } from './pull.ts';
import type { PushParams } from './push.ts';
import type { Writable } from 'node:stream';
import type { RegistryCredentials } from '../../registry/client/auth.ts';
import { removeImage, type RemoveImageParams } from './remove.ts';
import { tagImage, type TagImageParams } from './tag.ts';

// pull, push, login, save, load and import's unpacker (tar-stream, zlib, the registry client)
// are imported with their first request: an idle berthd does not keep them resident (issue 2's memory budget).

/** The image use cases, bound to their dependencies: what server/routes/images.ts calls. */
export interface ImageService {
  /** Validate an import before the response stream starts (throws typed errors). */
  checkImport(params: ImportImageParams): void;
  importImage(params: ImportImageParams, body: Readable): Promise<string>;
  /** Resolve a pull (errors before the progress stream starts); `run` then pulls. */
  preparePull(params: PullParams): Promise<PullPlan>;
  pushImage(params: PushParams, sink: ProgressSink): Promise<void>;
  login(body: RegistryCredentials | undefined): Promise<AuthResult>;
  /** Resolve the images to save (404 before the stream), then write the archive. */
  prepareSave(names: string[]): Promise<{ write(out: Writable): Promise<void> }>;
  loadImages(body: Readable, sink: ProgressSink, quiet: boolean): Promise<string[]>;
  listImages(params: ListImagesParams): ImageSummary[];
  inspectImage(name: string): Promise<ImageInspect>;
  tagImage(params: TagImageParams): string;
  removeImage(params: RemoveImageParams): Promise<ImageDeleteItem[]>;
  imageHistory(name: string): Promise<ImageHistoryItem[]>;
}

export function createImageService(deps: ImageServiceDeps): ImageService {
  return {
    checkImport: (params) => void importTarget(params),
    importImage: (params, body) => importImage(deps, params, body),
    preparePull: async (params) => (await import('./pull.ts')).preparePull(deps, params),
    pushImage: async (params, sink) => (await import('./push.ts')).pushImage(deps, params, sink),
    login: async (body) => (await import('./login.ts')).login(deps, body),
    prepareSave: async (names) => {
      const { resolveSave, saveImages } = await import('./save.ts');
      const items = resolveSave(deps, names);
      return { write: (out) => saveImages(deps, items, out) };
    },
    loadImages: async (body, sink, quiet) => (await import('./load.ts')).loadImages(deps, body, sink, quiet),
    listImages: (params) => listImages(deps, params),
    inspectImage: (name) => inspectImage(deps, name),
    tagImage: (params) => tagImage(deps, params),
    removeImage: (params) => removeImage(deps, params),
    imageHistory: (name) => imageHistory(deps, name),
  };
}
