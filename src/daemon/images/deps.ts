import type { EventBus } from '../../lib/events.ts';
import type { RegistrySessionFactory } from '../../registry/client/types.ts';
import type { ContentStore } from '../../store/content/store.ts';
import type { MetaDb } from '../../store/meta/db.ts';
import type { ImageStore } from '../../store/images/store.ts';
import type { Snapshotter } from '../../store/snapshots/snapshotter.ts';

/** A container that refers to an image, as the container side reports it. */
export interface ImageUser {
  id: string;
  running: boolean;
}

/** What the image services need; cmd/berthd.ts passes the concrete backends. */
export interface ImageServiceDeps {
  db: MetaDb;
  content: ContentStore;
  snapshots: Snapshotter;
  images: ImageStore;
  events: EventBus;
  /** Containers (any state) whose image is `imageId`. */
  containersUsingImage: (imageId: string) => ImageUser[];
  /** Opens registry sessions for pull, push and login (absent: those fail with NotImplemented). */
  registry?: RegistrySessionFactory;
}

/** Publish an image event the way dockerd does: Actor.ID is the image ID, labels plus `name` as attributes. */
export function publishImageEvent(deps: Pick<ImageServiceDeps, 'events' | 'images'>, imageId: string, action: string, name: string, labels?: Record<string, string> | null): void {
  const attrs: Record<string, string> = { ...(labels ?? deps.images.get(imageId)?.config.config?.Labels ?? {}) };
  attrs.name = name;
  deps.events.publish('image', action, imageId, attrs);
}
