// What the builder needs to execute RUN: a container on an image, through the same path as
// `docker run` (the daemon implements this with its container services), and the container's
// filesystem changes as a layer tar.
import type { ImageRecord } from '../store/images/types.ts';
import type { ImageRunConfig } from '../types/oci.ts';

/** Resource and network settings of RUN containers (the build's query parameters). */
export interface RunHostConfig {
  NetworkMode?: string;
  Memory?: number;
  MemorySwap?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  ShmSize?: number;
}

/** A `RUN --mount` as the container sees it: a host directory bound in, or a tmpfs. */
export interface RunMount {
  type: 'bind' | 'tmpfs';
  /** Host path (bind). */
  source?: string;
  target: string;
  readOnly: boolean;
}

export interface RunSpec {
  imageId: string;
  cmd: string[];
  env: string[];
  user: string;
  workdir: string;
  hostConfig: RunHostConfig;
  mounts: RunMount[];
}

export interface StepRunner {
  /** Create the container (reported through `onCreated`), start it, stream its output, wait for the exit; `signal` kills it. */
  run(spec: RunSpec, hooks: { onCreated: (id: string) => void; onOutput: (chunk: Buffer) => void; signal?: AbortSignal }): Promise<{ id: string; exitCode: number }>;
  /**
   * Commit the (exited) container's changes as a new image on `parent`: one layer, `config` as its
   * run config, a history entry. The container's snapshot becomes the layer (it is consumed).
   */
  commit(id: string, opts: { parent: ImageRecord; config: ImageRunConfig; createdBy: string; author?: string; sourceDateEpoch?: number; now: Date }): Promise<ImageRecord>;
  /** Remove the container and everything it holds (mounts, snapshot, files). */
  remove(id: string): Promise<void>;
  /** A persistent directory for `RUN --mount=type=cache` (one per cache id). */
  cacheDir(id: string): Promise<string>;
  /** An image's filesystem as a host directory, read-only, until `release` (for `--mount=type=bind,from=`). */
  mountImage(image: ImageRecord): Promise<{ path: string; release: () => Promise<void> }>;
}
