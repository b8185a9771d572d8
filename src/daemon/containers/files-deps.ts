import type { ContentStore } from '../../store/content/store.ts';
import type { ImageStore } from '../../store/images/store.ts';
import type { ContainerDeps } from './deps.ts';

/**
 * What the container file operations (commit, cp, diff, export) and the container/system
 * maintenance ones (prune, df) need beyond the container services: the content store and the
 * writable image store (commit makes images; df sizes them).
 */
export interface ContainerFilesDeps extends ContainerDeps {
  content: ContentStore;
  imageStore: ImageStore;
}
