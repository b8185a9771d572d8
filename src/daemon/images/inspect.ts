import { dirname, join } from 'node:path';
import { chainId } from '../../lib/digest.ts';
import { ZERO_TIME } from '../../lib/time.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import type { ContainerConfig, ImageInspect } from '../../types/docker.ts';
import type { ImageRunConfig } from '../../types/oci.ts';
import type { ImageServiceDeps } from './deps.ts';
import { familiarAll, splitRefs } from './refs.ts';

/** Go's zero time, which dockerd prints for an image that was never tagged. */

/** An image config's `config` as a Docker container Config, with the zero values dockerd shows. */
export function toContainerConfig(c: ImageRunConfig | undefined): ContainerConfig {
  const cfg = c ?? {};
  const out: ContainerConfig = {
    Hostname: '',
    Domainname: '',
    User: cfg.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(cfg.ExposedPorts ? { ExposedPorts: cfg.ExposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: cfg.Env ?? null,
    Cmd: cfg.Cmd ?? null,
    ...(cfg.Healthcheck ? { Healthcheck: cfg.Healthcheck } : {}),
    Image: '',
    Volumes: cfg.Volumes ?? null,
    WorkingDir: cfg.WorkingDir ?? '',
    Entrypoint: cfg.Entrypoint ?? null,
    OnBuild: cfg.OnBuild ?? null,
    Labels: cfg.Labels ?? null,
    ...(cfg.StopSignal ? { StopSignal: cfg.StopSignal } : {}),
  };
  return out;
}

/** GraphDriver as overlay2 shows it, pointing at our snapshot directories. */
async function graphDriver(deps: ImageServiceDeps, img: ImageRecord): Promise<ImageInspect['GraphDriver']> {
  const name = deps.snapshots.name === 'overlay' ? 'overlay2' : deps.snapshots.name;
  const diffIds = img.config.rootfs.diff_ids;
  if (diffIds.length === 0) return { Data: null, Name: name };
  const dirs: string[] = [];
  for (let i = diffIds.length; i >= 1; i--) {
    try {
      dirs.push(await deps.snapshots.upperDir(chainId(diffIds.slice(0, i))));
    } catch {
      return { Data: null, Name: name }; // a layer is missing (e.g. still unpacking)
    }
  }
  const top = dirname(dirs[0]);
  const data: Record<string, string> = {};
  if (dirs.length > 1) data.LowerDir = dirs.slice(1).join(':');
  data.MergedDir = join(top, 'merged');
  data.UpperDir = dirs[0];
  data.WorkDir = join(top, 'work');
  return { Data: data, Name: name };
}

/** `GET /images/{name}/json`. */
export async function inspectImage(deps: ImageServiceDeps, name: string): Promise<ImageInspect> {
  const img = deps.images.lookup(name).image;
  const { tags, digests } = splitRefs(img.refs);
  const config = toContainerConfig(img.config.config);
  const inspect: ImageInspect & { Container: string; ContainerConfig: ContainerConfig } = {
    Id: img.id,
    RepoTags: familiarAll(tags),
    RepoDigests: familiarAll(digests),
    Parent: img.parent,
    Comment: img.config.comment ?? '',
    Created: img.config.created ?? new Date(img.created).toISOString(),
    Container: '',
    // API < 1.45 still carries the (empty) config of the container an image was committed from.
    ContainerConfig: toContainerConfig(undefined),
    DockerVersion: img.config.docker_version ?? '',
    Author: img.config.author ?? '',
    Config: config,
    Architecture: img.config.architecture,
    ...(img.config.variant ? { Variant: img.config.variant } : {}),
    Os: img.config.os,
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: await graphDriver(deps, img),
    RootFS: { Type: 'layers', Layers: [...img.config.rootfs.diff_ids] },
    Metadata: { LastTagTime: img.lastTagTime > 0 ? new Date(img.lastTagTime).toISOString() : ZERO_TIME },
  };
  return inspect;
}
