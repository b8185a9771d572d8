import { chainId, shortId } from '../../lib/digest.ts';
import { Conflict, isKind } from '../../lib/errors.ts';
import { log } from '../../lib/logger.ts';
import { familiar, parseFullyQualified, refName } from '../../store/images/reference.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import type { ImageDeleteItem } from '../../types/docker.ts';
import type { ImageManifest } from '../../types/oci.ts';
import { publishImageEvent, type ImageServiceDeps } from './deps.ts';

export interface RemoveImageParams {
  /** As the user typed it: a reference or an (abbreviated) ID. */
  name: string;
  force?: boolean;
  /** Keep untagged parent images (`noprune=1`). */
  noprune?: boolean;
}

// dockerd's conflict classes (daemon/images/image_delete.go): hard ones cannot be forced.
const DEPENDENT_CHILD = 1;
const ACTIVE_REFERENCE = 2;
const STOPPED_CONTAINER = 4;
const RUNNING_CONTAINER = 8;
const HARD = DEPENDENT_CHILD | RUNNING_CONTAINER;
const SOFT = ACTIVE_REFERENCE | STOPPED_CONTAINER;

class ImageDeleteConflict extends Conflict {
  readonly hard: boolean;
  readonly used: boolean;
  constructor(imageId: string, hard: boolean, used: boolean, reason: string) {
    super(`conflict: unable to delete ${shortId(imageId)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${reason}`);
    this.hard = hard;
    this.used = used;
  }
}

const isDigested = (ref: string): boolean => parseFullyQualified(ref).digest !== undefined;
const nameOf = (ref: string): string => refName(parseFullyQualified(ref));

/** All references within one repository and at most one tag (dockerd's isSingleReference). */
function isSingleReference(refs: readonly string[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const names = new Set<string>();
  let tagged: string | undefined;
  for (const r of refs) {
    if (!isDigested(r)) {
      if (tagged !== undefined) return false;
      tagged = r;
    }
    names.add(nameOf(r));
  }
  return names.size === 1;
}

/**
 * `DELETE /images/{name}` with dockerd's semantics: a reference is untagged, and the image goes
 * only with its last reference; an ID deletes the image (with all its references if they are a
 * single repository's, or with force). Containers using the image block deletion; running ones
 * even with force. Deleting drops the record, then blobs and snapshots nothing else uses.
 */
export async function removeImage(deps: ImageServiceDeps, params: RemoveImageParams): Promise<ImageDeleteItem[]> {
  const { images } = deps;
  let force = params.force ?? false;
  const prune = !(params.noprune ?? false);
  const { image, matchedRef } = images.lookup(params.name);
  const imageId = image.id;
  const records: ImageDeleteItem[] = [];
  let removedRepositoryRef = false;

  if (matchedRef !== undefined) {
    let refs = images.refsOf(imageId);
    const user = deps.containersUsingImage(imageId)[0];
    if (user && refs.length === 1) {
      if (!force) {
        throw new Conflict(`conflict: unable to remove repository reference ${JSON.stringify(params.name)} (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(imageId)}`);
      }
      force = false; // untag, but keep the image the container needs
    }
    untag(deps, imageId, matchedRef, records);
    refs = images.refsOf(imageId);
    // Removing a repository's last tag also removes its digest references.
    if (!isDigested(matchedRef) && !refs.some((r) => !isDigested(r) && nameOf(r) === nameOf(matchedRef))) {
      for (const r of refs.filter((r) => isDigested(r) && nameOf(r) === nameOf(matchedRef))) untag(deps, imageId, r, records);
      refs = images.refsOf(imageId);
    }
    if (refs.length > 0) return records;
    removedRepositoryRef = true;
  } else {
    const refs = images.refsOf(imageId);
    if (isSingleReference(refs)) {
      const conflict = checkConflict(deps, imageId, force ? HARD : HARD | (SOFT & ~ACTIVE_REFERENCE));
      if (conflict) throw conflict;
      for (const r of refs) untag(deps, imageId, r, records);
    }
  }
  await deleteHelper(deps, imageId, records, force, prune, removedRepositoryRef);
  return records;
}

function untag(deps: ImageServiceDeps, imageId: string, ref: string, records: ImageDeleteItem[]): void {
  deps.images.untag(ref);
  records.push({ Untagged: familiar(ref) });
  publishImageEvent(deps, imageId, 'untag', imageId);
}

function checkConflict(deps: ImageServiceDeps, imageId: string, mask: number): ImageDeleteConflict | undefined {
  if (mask & DEPENDENT_CHILD && deps.images.children(imageId).length > 0) {
    return new ImageDeleteConflict(imageId, true, false, 'image has dependent child images');
  }
  const users = deps.containersUsingImage(imageId);
  const running = users.find((c) => c.running);
  if (mask & RUNNING_CONTAINER && running) {
    return new ImageDeleteConflict(imageId, true, true, `image is being used by running container ${shortId(running.id)}`);
  }
  if (mask & ACTIVE_REFERENCE && deps.images.refsOf(imageId).length > 0) {
    return new ImageDeleteConflict(imageId, false, false, 'image is referenced in multiple repositories');
  }
  const stopped = users.find((c) => !c.running);
  if (mask & STOPPED_CONTAINER && stopped) {
    return new ImageDeleteConflict(imageId, false, true, `image is being used by stopped container ${shortId(stopped.id)}`);
  }
  return undefined;
}

async function deleteHelper(deps: ImageServiceDeps, imageId: string, records: ImageDeleteItem[], force: boolean, prune: boolean, quiet: boolean): Promise<void> {
  const conflict = checkConflict(deps, imageId, force ? HARD : HARD | SOFT);
  if (conflict) {
    // After untagging, a conflict just means the image stays (dangling or in use), unless the user must know.
    const dangling = deps.images.refsOf(imageId).length === 0 && deps.images.children(imageId).length === 0;
    if (quiet && (!dangling || conflict.used)) return;
    throw conflict;
  }
  const image = deps.images.get(imageId)!;
  const labels = image.config.config?.Labels;
  for (const r of deps.images.delete(imageId)) {
    records.push({ Untagged: familiar(r) });
    publishImageEvent(deps, imageId, 'untag', imageId, labels);
  }
  publishImageEvent(deps, imageId, 'delete', imageId, labels);
  records.push({ Deleted: imageId });
  await releaseResources(deps, image);

  if (!prune || image.parent === '' || !deps.images.get(image.parent)) return;
  // Prune the parent if it is now unused; never forced, and quietly stopped by any conflict.
  if (deps.images.refsOf(image.parent).length === 0) await deleteHelper(deps, image.parent, records, false, true, true);
}

/** Chain IDs of every layer prefix of an image, bottom first. */
function chainIdsOf(img: ImageRecord): string[] {
  const diffIds = img.config.rootfs.diff_ids;
  return diffIds.map((_, i) => chainId(diffIds.slice(0, i + 1)));
}

async function blobsOf(deps: ImageServiceDeps, img: ImageRecord): Promise<string[]> {
  const out = [img.id];
  if (img.manifestDigest) {
    out.push(img.manifestDigest);
    try {
      const manifest = JSON.parse((await deps.content.readBytes(img.manifestDigest)).toString('utf8')) as ImageManifest;
      for (const l of manifest.layers) out.push(l.digest);
    } catch (err) {
      log.warn('image manifest unreadable', { image: img.id, error: err });
    }
  }
  return out;
}

/**
 * After the record is gone: delete blobs no other image refers to, and layer snapshots no other
 * image uses, top down, stopping at the first one something still stands on (a container's
 * rootfs is a child snapshot, so the snapshotter refuses).
 */
async function releaseResources(deps: ImageServiceDeps, image: ImageRecord): Promise<void> {
  const remaining = deps.images.list();
  const usedBlobs = new Set<string>();
  const usedChains = new Set<string>();
  for (const other of remaining) {
    for (const b of await blobsOf(deps, other)) usedBlobs.add(b);
    for (const c of chainIdsOf(other)) usedChains.add(c);
  }
  for (const b of await blobsOf(deps, image)) {
    if (usedBlobs.has(b)) continue;
    await deps.content.delete(b).catch((err: unknown) => {
      if (!isKind(err, 'NotFound')) log.warn('cannot delete blob', { digest: b, error: err });
    });
  }
  for (const c of chainIdsOf(image).reverse()) {
    if (usedChains.has(c)) break;
    try {
      await deps.snapshots.remove(c);
    } catch (err) {
      if (isKind(err, 'NotFound')) continue;
      if (!isKind(err, 'Conflict')) log.warn('cannot remove layer snapshot', { key: c, error: err });
      break;
    }
  }
}
