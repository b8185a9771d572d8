import { InvalidParameter } from '../../lib/errors.ts';
import { log } from '../../lib/logger.ts';
import { commitLayer } from '../../store/images/commit.ts';
import { applyChanges } from '../../store/images/changes.ts';
import { familiar, formatReference, parseNormalizedNamed, validateTag, withDefaultTag } from '../../store/images/reference.ts';
import type { ContainerConfig } from '../../types/docker.ts';
import type { ImageRunConfig } from '../../types/oci.ts';
import { processArgs } from './config.ts';
import { eventAttributes } from './deps.ts';
import type { ContainerFilesDeps } from './files-deps.ts';

export interface CommitParams {
  /** Container name or ID. */
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Freeze the container while its layer is read (docker's default: true). */
  pause?: boolean;
  /** Dockerfile lines (CMD, ENV, LABEL, …) applied to the new image's config. */
  changes?: readonly string[];
  /** A config from the request body; its empty fields are filled from the container's. */
  config?: Partial<ContainerConfig> | null;
}

/** The normalized reference a commit will create (undefined without `repo`); throws InvalidParameter. */
export function commitTarget(repo: string | undefined, tag: string | undefined): string | undefined {
  if (!repo) {
    if (tag) throw new InvalidParameter('tag requires a repository name');
    return undefined;
  }
  let ref = parseNormalizedNamed(repo);
  if (ref.digest !== undefined) throw new InvalidParameter('refusing to create a tag with a digest reference');
  if (tag) {
    validateTag(tag);
    ref = { ...ref, tag };
  }
  return formatReference(withDefaultTag(ref));
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0);
}

/** The image run config of a committed container: the container's config, body config on top, changes last. */
function runConfigOf(container: ContainerConfig, body: Partial<ContainerConfig> | null | undefined, changes: readonly string[]): ImageRunConfig {
  const merged: Partial<ContainerConfig> = { ...container };
  for (const [k, v] of Object.entries(body ?? {})) if (!isEmpty(v)) (merged as Record<string, unknown>)[k] = v;
  const base: ImageRunConfig = {};
  if (merged.User) base.User = merged.User;
  if (merged.ExposedPorts && Object.keys(merged.ExposedPorts).length > 0) base.ExposedPorts = merged.ExposedPorts;
  if (merged.Env && merged.Env.length > 0) base.Env = [...merged.Env];
  if (merged.Entrypoint && merged.Entrypoint.length > 0) base.Entrypoint = [...merged.Entrypoint];
  if (merged.Cmd && merged.Cmd.length > 0) base.Cmd = [...merged.Cmd];
  if (merged.Volumes && Object.keys(merged.Volumes).length > 0) base.Volumes = merged.Volumes;
  if (merged.WorkingDir) base.WorkingDir = merged.WorkingDir;
  if (merged.Labels && Object.keys(merged.Labels).length > 0) base.Labels = { ...merged.Labels };
  if (merged.StopSignal) base.StopSignal = merged.StopSignal;
  if (merged.Healthcheck) base.Healthcheck = merged.Healthcheck as NonNullable<ImageRunConfig['Healthcheck']>; // same fields; Test is never null once set
  if (merged.OnBuild && merged.OnBuild.length > 0) base.OnBuild = [...merged.OnBuild];
  return applyChanges(base, changes);
}

/**
 * POST /commit: a new image from the container's upper layer on top of its image. The layer is
 * copied (the container keeps its own snapshot and may go on running). Emits the container's
 * `commit` event (and the image's `tag` event when tagged). Returns the new image ID.
 */
export async function commitContainer(deps: ContainerFilesDeps, params: CommitParams): Promise<{ Id: string }> {
  const rec = deps.repo.find(params.container);
  const target = commitTarget(params.repo, params.tag);
  const runConfig = runConfigOf(rec.config, params.config, params.changes ?? []);
  const parent = deps.imageStore.get(rec.imageId);
  if (!parent && rec.imageId !== '') throw new InvalidParameter(`the image of container ${rec.name} (${rec.imageId}) no longer exists`);
  if (rec.state.status === 'removing' || rec.state.status === 'dead') throw new InvalidParameter(`cannot commit container ${rec.name}: it is ${rec.state.status === 'dead' ? 'dead' : 'being removed'}`);

  const write = () => commitLayer(
    { content: deps.content, snapshotter: deps.snapshots, images: deps.imageStore },
    {
      ...(parent ? { parent } : {}),
      snapshotKey: rec.id,
      consume: false,
      config: runConfig,
      history: {
        created_by: processArgs(rec.config).join(' '),
        ...(params.author ? { author: params.author } : {}),
        ...(params.comment ? { comment: params.comment } : {}),
      },
      ...(params.author ? { author: params.author } : {}),
      ...(params.comment ? { comment: params.comment } : {}),
      refs: target ? [target] : [],
    },
  );
  // docker's default: freeze the container while its layer is read, so the image is consistent.
  // Under the container's lock (a concurrent pause, stop or rm waits); its state does not change.
  let image: Awaited<ReturnType<typeof write>>['image'];
  if (params.pause !== false && rec.state.status === 'running') {
    ({ image } = await deps.locks.run(rec.id, async () => {
      if (rec.state.status !== 'running') return write();
      await deps.runtime.pause(rec.id);
      try {
        return await write();
      } finally {
        await deps.runtime.resume(rec.id).catch((err: unknown) => log.error('resume after commit failed', { id: rec.id, error: err }));
      }
    }));
  } else ({ image } = await write());
  deps.events.publish('container', 'commit', rec.id, eventAttributes(rec, { comment: params.comment ?? '', imageID: image.id, imageRef: target ? familiar(target) : '' }));
  if (target) deps.events.publish('image', 'tag', image.id, { ...(runConfig.Labels ?? {}), name: familiar(target) });
  return { Id: image.id };
}
