import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, Conflict, InvalidParameter, NotModified, errorMessage } from '../../lib/errors.ts';
import { failpoint } from '../../lib/failpoint.ts';
import { log } from '../../lib/logger.ts';
import { buildSpec } from '../../runtime/spec/build.ts';
import { containerEnv } from '../../runtime/spec/env.ts';
import { resolveUser } from '../../runtime/spec/user.ts';
import { processArgs } from './config.ts';
import { containerPaths, eventAttributes, type ContainerDeps } from './deps.ts';
import { nowRfc3339Nano, type ContainerRecord } from './record.ts';
import { destroy } from './remove.ts';
import { outputSettings } from './logconfig.ts';
import { prepareNetwork, releaseNetwork, wireNetwork } from './network.ts';
import { writeNetworkEtcFiles } from './etcfiles.ts';

/** Exit code and error class dockerd gives a start failure (moby's translateContainerdStartErr). */
function classifyStartError(err: unknown): { exitCode: number; error: Error } {
  const msg = errorMessage(err);
  if (/executable file not found|no such file or directory/i.test(msg)) return { exitCode: 127, error: new InvalidParameter(msg) };
  if (/permission denied/i.test(msg)) return { exitCode: 126, error: new InvalidParameter(msg) };
  if (msg.startsWith('no command specified') || msg.startsWith('unable to find user')) return { exitCode: 128, error: err instanceof BerthError ? err : new InvalidParameter(msg) };
  return { exitCode: 128, error: err instanceof Error ? err : new Error(msg) };
}

/** POST /containers/{id}/start. 304 when already running. An AutoRemove container that fails to start is removed, as dockerd does. */
export async function startContainer(deps: ContainerDeps, ref: string): Promise<void> {
  const rec = deps.repo.find(ref);
  await deps.locks.run(rec.id, async () => {
    try {
      resetRestarts(deps, rec);
      await startLocked(deps, rec);
    } catch (err) {
      if (rec.hostConfig.AutoRemove && !(err instanceof NotModified) && deps.repo.get(rec.id)) {
        await destroy(deps, rec, { removeVolumes: true }).catch((e: unknown) => log.warn('auto-remove after a failed start failed', { id: rec.id, error: e }));
      }
      throw err;
    }
  });
}

/** A start by the user (start, restart): the restart count and the backoff begin again, as dockerd does. */
export function resetRestarts(deps: ContainerDeps, rec: ContainerRecord): void {
  if (rec.state.status === 'running' || rec.state.status === 'restarting' || rec.state.status === 'paused') return;
  deps.restarts.reset(rec.id);
  rec.restartCount = 0;
}

/** `byPolicy`: a restart policy's start of a `restarting` container (it stays `restarting` until it runs). */
export async function startLocked(deps: ContainerDeps, rec: ContainerRecord, opts: { byPolicy?: boolean } = {}): Promise<void> {
  const st = rec.state.status;
  if (st === 'running' || (st === 'restarting' && !opts.byPolicy)) throw new NotModified();
  if (st === 'paused') throw new Conflict('cannot start a paused container, try unpause instead');
  if (st === 'removing') throw new Conflict(`container is marked for removal and cannot be started`);
  const paths = containerPaths(deps, rec.id);
  let mounted = false;
  let volumesMounted = false;
  let created = false;
  let networkPrepared = false;
  let pid: number;
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  const mark = (name: string): void => {
    phases[name] = Math.round((performance.now() - t0) * 10) / 10;
  };
  // Settles when the preparation is over, whatever its outcome: the cleanup below must not race it.
  let prepSettled: Promise<unknown> = Promise.resolve();
  try {
    const args = processArgs(rec.config);
    if (args.length === 0) throw new InvalidParameter('no command specified');
    const prepare = async (): Promise<void> => {
      // Independent until the spec: the root filesystem (then the user, read from it) and the
      // network's addresses (then /etc/hosts and resolv.conf). A failure of either is reported with
      // the filesystem's first, as when they ran one after the other; the catch undoes both.
      const fsReady = (async () => {
        await mkdir(paths.rootfs, { recursive: true, mode: 0o700 });
        await deps.host.mountAll(await deps.snapshots.mounts(rec.id), paths.rootfs);
        mounted = true;
        const extraMounts = deps.volumes ? await deps.volumes.mount(rec, paths.rootfs) : [];
        volumesMounted = true;
        mark('mounted');
        const user = await resolveUser(paths.rootfs, rec.config.User, (rec.hostConfig.GroupAdd as string[] | null | undefined) ?? []);
        return { extraMounts, user };
      })();
      networkPrepared = true;
      const netReady = (async () => {
        const net = await prepareNetwork(deps, rec);
        if (deps.network) await writeNetworkEtcFiles(paths, rec.config, rec.hostConfig, { addresses: net.addresses, dnsServer: net.dnsServer, hostGateway: deps.network.hostGateway() });
        return net;
      })();
      const [fsr, netr] = await Promise.allSettled([fsReady, netReady]);
      if (fsr.status === 'rejected') throw fsr.reason;
      if (netr.status === 'rejected') throw netr.reason;
      const { extraMounts, user } = fsr.value;
      const net = netr.value;
      const hostname = rec.config.Hostname + (rec.config.Domainname ? `.${rec.config.Domainname}` : '');
      mark('network');
      const spec = buildSpec({
        id: rec.id,
        args,
        env: containerEnv({ env: rec.config.Env, hostname, tty: rec.config.Tty, home: user.home }),
        cwd: rec.config.WorkingDir || '/',
        user,
        hostname: rec.config.Hostname,
        tty: rec.config.Tty,
        openStdin: rec.config.OpenStdin,
        hostConfig: rec.hostConfig,
        rootfsPath: paths.rootfs,
        hostsPath: paths.hostsPath,
        resolvConfPath: paths.resolvConfPath,
        hostnamePath: paths.hostnamePath,
        cgroupsPath: paths.cgroupsPath,
        hostFeatures: deps.hostFeatures,
        extraMounts,
        netnsPath: net.netnsPath,
      });
      // A plain write: the bundle lives for one run and is regenerated at every start. If berthd
      // dies before the monitor is told to go, the monitor goes on by itself (its start pipe ends):
      // the runtime refuses a partial config.json, or creates the container from a whole one, which
      // restore then releases as a start cut short. After a power loss no container is running.
      await writeFile(join(paths.bundleDir, 'config.json'), JSON.stringify(spec));
      mark('bundle');
      failpoint(opts.byPolicy ? 'container-restart-before-runtime' : 'container-start-before-runtime');
    };
    const out = outputSettings(rec, paths);
    // The `none` driver's buffer only serves attach: each run starts it empty (removed before the
    // monitor starts, which opens its log file at once).
    if (!out.readable) await rm(out.path, { force: true });
    const ready = prepare();
    prepSettled = ready.catch(() => undefined);
    // The monitor is spawned now and creates the container once the bundle is ready (its
    // start-up overlaps the mount, the network and the spec).
    ({ pid } = await deps.runtime.create({ id: rec.id, name: rec.name, bundleDir: paths.bundleDir, logPath: out.path, logRotation: out.rotation, logSizeMax: out.sizeMax, tty: rec.config.Tty, stdin: rec.config.OpenStdin, stdinOnce: rec.config.StdinOnce, ready }));
    created = true;
    mark('created');
    await wireNetwork(deps, rec, pid);
    mark('wired');
    await deps.lifecycle.runPreStartHooks(rec.id);
    await deps.runtime.start(rec.id);
    mark('started');
  } catch (err) {
    await prepSettled;
    if (created) await deps.runtime.delete(rec.id, true).catch((e: unknown) => log.warn('runtime delete failed', { id: rec.id, error: e }));
    if (mounted) await deps.host.unmount(paths.rootfs).catch((e: unknown) => log.warn('unmount failed', { id: rec.id, error: e }));
    if (volumesMounted) await deps.volumes?.release(rec.id).catch((e: unknown) => log.warn('volume release failed', { id: rec.id, error: e }));
    await rm(paths.bundleDir, { recursive: true, force: true });
    await deps.host.removeCgroup(paths.cgroupsPath).catch(() => undefined);
    if (networkPrepared) await releaseNetwork(deps, rec).catch((e: unknown) => log.warn('network release failed', { id: rec.id, error: e }));
    const { exitCode, error } = classifyStartError(err);
    rec.state = { ...rec.state, exitCode, error: error.message };
    deps.repo.save(rec);
    deps.lifecycle.emitStartFailed(rec.id); // attach sessions waiting for this start end
    throw error;
  }
  rec.state = { status: 'running', pid, exitCode: 0, error: '', oomKilled: false, startedAt: nowRfc3339Nano(), finishedAt: rec.state.finishedAt, health: rec.state.health };
  deps.health?.init(rec);
  deps.repo.save(rec);
  deps.events.publish('container', 'start', rec.id, eventAttributes(rec));
  deps.lifecycle.emitStarted(rec.id);
  log.debug('container started', { id: rec.id, ms: phases });
}
