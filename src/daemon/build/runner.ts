// RUN steps through the container services: the same create/start/wait/remove path as
// `docker run`, with the output read from conmon's log as it is written.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, sha256 } from '../../lib/digest.ts';
import { errorMessage } from '../../lib/errors.ts';
import { commitLayer, type CommitDeps } from '../../store/images/commit.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import type { ImageRunConfig } from '../../types/oci.ts';
import type { RunSpec, StepRunner } from '../../builder/runner.ts';
import { BuildStepError } from '../../builder/dockerfile/evaluator.ts';
import { createContainer } from '../containers/create.ts';
import { containerPaths, type ContainerDeps } from '../containers/deps.ts';
import { removeContainer } from '../containers/remove.ts';
import { startContainer } from '../containers/start.ts';
import { killContainer } from '../containers/stop.ts';
import { prepareWait } from '../containers/wait.ts';
import { STEP_LABEL, VIEW_KEY_PREFIX } from './markers.ts';

export interface StepRunnerDeps {
  containers: ContainerDeps;
  store: CommitDeps;
  /** Persistent `RUN --mount=type=cache` directories (<dataRoot>/build-cache-mounts). */
  cacheMountsDir: string;
  /** Mount points of image views for `--mount=type=bind,from=` (<execRoot>/build-mounts). */
  viewMountsDir: string;
}

export { STEP_LABEL, VIEW_KEY_PREFIX };

export class ContainerStepRunner implements StepRunner {
  private readonly deps: StepRunnerDeps;
  constructor(deps: StepRunnerDeps) {
    this.deps = deps;
  }

  async run(spec: RunSpec, hooks: { onCreated: (id: string) => void; onOutput: (chunk: Buffer) => void; signal?: AbortSignal }): Promise<{ id: string; exitCode: number }> {
    const c = this.deps.containers;
    const { Id: id } = await createContainer(c, {
      Image: spec.imageId,
      Cmd: spec.cmd,
      // RUN ignores the image's ENTRYPOINT.
      Entrypoint: [''],
      Env: spec.env,
      User: spec.user,
      WorkingDir: spec.workdir,
      AttachStdout: true,
      AttachStderr: true,
      Labels: { [STEP_LABEL]: 'true' },
      HostConfig: {
        ...spec.hostConfig,
        ...(spec.mounts.length > 0
          ? { Mounts: spec.mounts.map((m) => (m.type === 'tmpfs' ? { Type: 'tmpfs' as const, Target: m.target } : { Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly })) }
          : {}),
      },
    });
    hooks.onCreated(id);
    const abort = new AbortController();
    const drain = new AbortController();
    try {
      const wait = prepareWait(c, id, 'next-exit', abort.signal);
      try {
        await startContainer(c, id);
      } catch (err) {
        throw new BuildStepError(`failed to run: ${errorMessage(err)}`, 127);
      }
      // The client went away: kill the step (the build then fails and removes it).
      const kill = (): void => void killContainer(c, id, 'SIGKILL').catch(() => undefined);
      if (hooks.signal?.aborted) kill();
      hooks.signal?.addEventListener('abort', kill, { once: true });
      abort.signal.addEventListener('abort', () => hooks.signal?.removeEventListener('abort', kill), { once: true });
      const exited = wait();
      void exited.finally(() => drain.abort()).catch(() => undefined);
      const entries = c.runtime.readLog(containerPaths(c, id).logPath, { follow: true, signal: abort.signal, drainSignal: drain.signal });
      for await (const entry of entries) hooks.onOutput(entry.data);
      const { StatusCode } = await exited;
      return { id, exitCode: StatusCode };
    } finally {
      abort.abort();
    }
  }

  async commit(id: string, opts: { parent: ImageRecord; config: ImageRunConfig; createdBy: string; author?: string; sourceDateEpoch?: number; now: Date }): Promise<ImageRecord> {
    const c = this.deps.containers;
    // The exit handler releases the runtime (rootfs unmount) under the container's lock after it
    // wakes waiters: taking the lock here waits for that, so the snapshot is no longer mounted.
    return c.locks.run(id, async () => {
      const { image } = await commitLayer(this.deps.store, {
        parent: opts.parent,
        snapshotKey: id,
        consume: true,
        config: opts.config,
        history: { created_by: opts.createdBy },
        ...(opts.author ? { author: opts.author } : {}),
        now: opts.now,
        ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
      });
      return image;
    });
  }

  async cacheDir(id: string): Promise<string> {
    const dir = join(this.deps.cacheMountsDir, digestHex(sha256(id)));
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  async mountImage(image: ImageRecord): Promise<{ path: string; release: () => Promise<void> }> {
    const snapshots = this.deps.store.snapshotter;
    const host = this.deps.containers.host;
    const token = randomBytes(8).toString('hex');
    const path = join(this.deps.viewMountsDir, token);
    await mkdir(path, { recursive: true, mode: 0o700 });
    if (!image.chainId) return { path, release: () => rm(path, { recursive: true, force: true }) };
    const key = `${VIEW_KEY_PREFIX}${token}`;
    let mounted = false;
    const release = async (): Promise<void> => {
      if (mounted) await host.unmount(path).catch(() => host.unmount(path, { detach: true }));
      mounted = false;
      await rm(path, { recursive: true, force: true });
      await snapshots.remove(key).catch(() => undefined);
    };
    try {
      await host.mountAll(await snapshots.view(key, image.chainId), path);
      mounted = true;
    } catch (err) {
      await release();
      throw err;
    }
    return { path, release };
  }

  async remove(id: string): Promise<void> {
    await removeContainer(this.deps.containers, id, { force: true, removeVolumes: true });
  }
}
