import type { Readable } from 'node:stream';
import type { ImageDeleteItem, ImageHistoryItem, ImageInspect, ImageSummary } from '../../types/docker.ts';
import type { ImageServiceDeps } from './deps.ts';
import { imageHistory } from './history.ts';
import { importImage, importTarget, type ImportImageParams } from './import.ts';
import { inspectImage } from './inspect.ts';
import { listImages, type ListImagesParams } from './list.ts';
import { pullUnavailable } from './pull.ts';
import { removeImage, type RemoveImageParams } from './remove.ts';
import { tagImage, type TagImageParams } from './tag.ts';

/** The image use cases, bound to their dependencies: what server/routes/images.ts calls. */
export interface ImageService {
  /** Validate an import before the response stream starts (throws typed errors). */
  checkImport(params: ImportImageParams): void;
  importImage(params: ImportImageParams, body: Readable): Promise<string>;
  /** `fromImage`: pulling needs the registry client (a later issue). */
  pullImage(params: { fromImage: string; tag?: string }): Promise<never>;
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
    pullImage: (params) => pullUnavailable(params),
    listImages: (params) => listImages(deps, params),
    inspectImage: (name) => inspectImage(deps, name),
    tagImage: (params) => tagImage(deps, params),
    removeImage: (params) => removeImage(deps, params),
    imageHistory: (name) => imageHistory(deps, name),
  };
}
