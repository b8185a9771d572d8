// berthd: the composition root. Parses flags, wires concrete backends into the daemon services,
// reconciles state from the last run, and serves the Docker Engine API.
import module from 'node:module';
import { compileCacheDir } from './compile-cache.ts';
// static imports below are evaluated before this line runs: the cache serves the modules loaded
// on first use (builder, registry client, image transfer, …)
const cacheDir = compileCacheDir(process.env, process.getuid?.());
if (cacheDir) module.enableCompileCache?.(cacheDir);

import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { dirname } from "node:path";
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { daemonPaths, type DaemonConfig } from '../daemon/config.ts';
import { parseDaemonFlags, USAGE } from './berthd-flags.ts';
import { acquireLock } from './daemon-lock.ts';
import { pickListenFd, takeListenFds } from './socket-activation.ts';
import { ENGINE_VERSION } from '../api/version.ts';
import { log, type LogLevel } from '../lib/logger.ts';
import { EventBus } from '../lib/events.ts';
import { KeyedLock } from '../lib/keyedlock.ts';
import { errorMessage } from '../lib/errors.ts';
import { MetaDb } from '../store/meta/db.ts';
import { LocalContentStore } from '../store/content/local.ts';
import { openStorageDriver } from './storage-driver.ts';
import { ImageStore } from '../store/images/store.ts';
import { ConmonRuntime } from '../runtime/conmon/conmon.ts';
import { realHost } from '../os/host.ts';
import { boundingCapabilities, initBinary, nofileHardLimit, swapLimitSupported } from '../os/limits.ts';
import { ALL_CAPABILITIES } from '../runtime/spec/caps.ts';
import { ContainerRepo } from '../daemon/containers/repo.ts';
import { Lifecycle } from '../daemon/containers/lifecycle.ts';
import type { ContainerDeps } from '../daemon/containers/deps.ts';
import { handleExit } from '../daemon/containers/exit.ts';
import { restore } from '../daemon/restore.ts';
import { applyBootRestarts } from '../daemon/containers/autorestart.ts';
import { RestartManager } from '../daemon/containers/restartpolicy.ts';
import { HealthMonitor } from '../daemon/containers/health.ts';
import { eventAttributes } from '../daemon/containers/deps.ts';
import { execInContainer } from '../daemon/exec/run.ts';
import { startExitReconciler } from '../daemon/containers/reconcile.ts';
import { OomWatcher } from '../daemon/containers/oomwatch.ts';
import { systemInfo } from '../daemon/system/info.ts';
import { versionInfo } from '../daemon/system/version.ts';
import { Router } from '../server/router.ts';
import { createApiServer } from '../server/app.ts';
import { registerSystemRoutes } from '../server/routes/system.ts';
import { registerContainerRoutes } from '../server/routes/containers.ts';
import { registerImageRoutes } from '../server/routes/images.ts';
import { registerContainerFileRoutes } from '../server/routes/container-files.ts';
import { registerSystemDfRoutes } from '../server/routes/system-df.ts';
import { volumesUsage } from '../daemon/volumes/usage.ts';
import { buildCacheUsage } from '../daemon/build/prune.ts';
import { registerExecRoutes } from '../server/routes/exec.ts';
import { registerContainerOpsRoutes } from '../server/routes/container-ops.ts';
import { hostMetrics } from '../os/cgroupstats.ts';
import { crunUnsupported } from '../runtime/oci/crun.ts';
import { enableFavorDynmods } from '../os/favordynmods.ts';
import { ExecStore } from '../daemon/exec/store.ts';
import type { ExecDeps } from '../daemon/exec/deps.ts';
import { registerBuildRoutes } from '../server/routes/build.ts';
import { BuildCache } from '../builder/cache.ts';
import { sweepBuildLeftovers } from '../daemon/build/sweep.ts';
import { isRunning } from '../daemon/containers/record.ts';
import { VolumeStore } from '../volumes/store.ts';
import { LocalDriver } from '../volumes/local/local.ts';
import { DriverRegistry } from '../volumes/registry.ts';
import type { VolumeDeps } from '../daemon/volumes/deps.ts';
import { ContainerMounts } from '../daemon/volumes/container-mounts.ts';
import { registerVolumeRoutes } from '../server/routes/volumes.ts';
import type { RegistrySessionFactory } from '../registry/client/types.ts';
import { DEFAULT_NETWORK_CONFIG } from '../daemon/config.ts';
import { NetworkStore } from '../network/store.ts';
import { DEFAULT_POOLS, NetworkController } from '../network/controller.ts';
import { parsePools } from '../network/ipam/pools.ts';
import { realNetHost } from '../os/net/iproute.ts';
import { registerNetworkRoutes } from '../server/routes/networks.ts';

// Sockets passed by systemd (berthd.socket), taken before anything is spawned.
const activationFds = takeListenFds();

function listen(server: Server, host: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (host.startsWith('unix://')) {
      const path = host.slice('unix://'.length);
      mkdirSync(dirname(path), { recursive: true });
      rmSync(path, { force: true });
      server.listen(path, () => {
        chmodSync(path, 0o660);
        server.off('error', reject);
        resolve(() => rmSync(path, { force: true }));
      });
    } else if (host.startsWith('tcp://')) {
      const u = new URL(host);
      server.listen(Number(u.port || 2375), u.hostname, () => {
        server.off('error', reject);
        resolve(() => undefined);
      });
    } else if (host.startsWith('fd://')) {
      // systemd owns the socket file: nothing to remove at shutdown.
      server.listen({ fd: pickListenFd(host, activationFds) }, () => {
        server.off('error', reject);
        resolve(() => undefined);
      });
    } else {
      reject(new Error(`unsupported host: ${host} (unix://, tcp:// or fd://)`));
    }
  });
}

function networkController(cfg: DaemonConfig, db: MetaDb): NetworkController {
  const n = cfg.network ?? DEFAULT_NETWORK_CONFIG;
  return new NetworkController({
    store: new NetworkStore(db),
    host: realNetHost,
    bridgeName: n.bridge,
    bip: n.bip,
    pools: n.defaultAddressPools.length ? parsePools(n.defaultAddressPools) : DEFAULT_POOLS,
    nftTable: n.nftTable,
    ifacePrefix: n.ifacePrefix,
    egress: n.egress ?? true,
  });
}

/** `berthd --cleanup` (uninstall): remove every network object the daemon made, then exit. */
async function cleanup(cfg: DaemonConfig): Promise<void> {
  const paths = daemonPaths(cfg);
  const releaseLock = acquireLock(paths.lock);
  const db = new MetaDb(paths.db);
  await networkController(cfg, db).cleanupAll();
  db.close();
  releaseLock();
}

async function main(cfg: DaemonConfig): Promise<void> {
  log.level = cfg.logLevel as LogLevel;
  // A host that cannot be served fails before anything is made (data root, bridge, nft table).
  for (const host of cfg.hosts) if (host.startsWith('fd://')) pickListenFd(host, activationFds);
  if (cfg.defaultRuntime === 'crun') {
    const why = await crunUnsupported();
    if (why) throw new Error(`--default-runtime crun: ${why}`);
  }
  const paths = daemonPaths(cfg);
  mkdirSync(cfg.dataRoot, { recursive: true, mode: 0o711 });
  mkdirSync(cfg.execRoot, { recursive: true, mode: 0o700 });
  const releaseLock = acquireLock(paths.lock);
  writeFileSync(cfg.pidfile, String(process.pid));

  if (cfg.cgroupFavorDynmods !== false) {
    // a speed-up only: no failure of it stops the daemon
    const r = await enableFavorDynmods().catch((err: unknown) => ({ state: 'unsupported' as const, target: 'cgroup2', reason: errorMessage(err) }));
    if (r.state === 'enabled') log.info(`remounted ${r.target} with favordynmods: moving processes into cgroups no longer waits for an RCU grace period (--no-cgroup-favordynmods to leave it)`);
    else if (r.state === 'unsupported') log.warn(`cgroup2 favordynmods not enabled on ${r.target}: ${r.reason}`);
    else log.debug(`cgroup2 favordynmods: ${r.state}`);
  }

  const db = new MetaDb(paths.db);
  const network = networkController(cfg, db);
  const events = new EventBus();
  const content = new LocalContentStore({ root: paths.content, db });
  const storage = await openStorageDriver({ requested: cfg.storageDriver, db, root: paths.snapshots, dataRoot: cfg.dataRoot });
  const snapshots = storage.snapshotter;
  const images = new ImageStore({ db });
  const runtime = new ConmonRuntime({
    runtimePath: `/usr/bin/${cfg.defaultRuntime}`,
    runtimeRoot: paths.runtimeRoot,
    conmonPath: '/usr/bin/conmon',
    execRoot: cfg.execRoot,
    name: cfg.defaultRuntime,
  });
  const repo = new ContainerRepo(db);
  const volumeDeps: VolumeDeps = {
    store: new VolumeStore(db),
    drivers: new DriverRegistry({ local: new LocalDriver({ root: paths.volumes, host: realHost }), pluginDirs: cfg.pluginDirs }),
    events,
    locks: new KeyedLock(),
  };
  const oomWatcher = new OomWatcher();
  const execs = new ExecStore();
  const containers: ContainerDeps = {
    repo,
    images,
    snapshots,
    runtime,
    host: realHost,
    events,
    lifecycle: new Lifecycle(),
    locks: new KeyedLock(),
    restarts: new RestartManager(),
    logDefaults: { Type: cfg.logDriver ?? 'json-file', Config: cfg.logOpts ?? {} },
    containersDir: paths.containers,
    bundlesDir: paths.bundles,
    cgroupParent: cfg.cgroupParent,
    runtimeName: cfg.defaultRuntime,
    storageDriver: storage.displayName,
    volumes: new ContainerMounts(volumeDeps, { findContainer: (ref) => repo.find(ref).id }),
    execIds: (id) => execs.forContainer(id),
    metrics: hostMetrics,
    oom: oomWatcher,
    hostFeatures: { swapLimit: await swapLimitSupported(), nofileLimit: await nofileHardLimit(), boundingCaps: await boundingCapabilities(ALL_CAPABILITIES), initPath: await initBinary() },
    network,
  };

  // Health probes run through the exec service (the same exec records and events as the API).
  containers.health = new HealthMonitor({
    get: (id) => repo.get(id),
    save: (rec) => repo.save(rec),
    publish: (rec, action) => void events.publish('container', action, rec.id, eventAttributes(rec)),
    probe: (req) => execInContainer({ ...containers, execs }, req.id, { cmd: req.cmd, user: req.user, workingDir: req.workingDir, timeoutMs: req.timeoutMs, maxOutput: 4097 }),
  });

  // Exits are handled from here on; subscribe before reconciling so none falls in between.
  runtime.onExit((id) => void handleExit(containers, id).catch((err: unknown) => log.error('exit handling failed', { id, error: err })));
  await network.init();
  await restore(containers);
  await network.reconcileContainers((id) => { const r = repo.get(id); return !!r && isRunning(r.state); }, (id) => !!repo.get(id));
  startExitReconciler(containers);
  oomWatcher.start(containers);
  // Restart policies at daemon start, in the background: the API is served meanwhile.
  void applyBootRestarts(containers).catch((err: unknown) => log.error('restart policies at start failed', { error: err }));

  const daemonId = randomUUID();
  const listeners = { count: 0 };
  const router = new Router();
  registerSystemRoutes(router, {
    events,
    listeners,
    version: () => versionInfo(cfg.defaultRuntime),
    info: () => {
      const all = repo.all();
      const running = all.filter((r) => r.state.status === 'running').length;
      const paused = all.filter((r) => r.state.status === 'paused').length;
      return systemInfo(cfg, { containers: all.length, running, paused, stopped: all.filter((r) => !isRunning(r.state)).length, images: images.list().length }, { id: daemonId, driver: storage.displayName, driverStatus: storage.status, eventListeners: listeners.count });
    },
  });
  registerContainerRoutes(router, containers);
  registerNetworkRoutes(router, { containers, network, events });
  registerContainerFileRoutes(router, { ...containers, content, imageStore: images });
  registerVolumeRoutes(router, volumeDeps);
  const execDeps: ExecDeps = { ...containers, execs };
  registerExecRoutes(router, execDeps);
  registerContainerOpsRoutes(router, containers);
  const registryConfig = cfg.registry ?? { mirrors: [], insecure: [], certsDir: '/etc/berth/certs.d' };
  // undici loads with the first pull/push/login, not at start-up (resident memory budget)
  const registry: RegistrySessionFactory = async (o) => new (await import('../registry/client/client.ts')).RegistryClient({ ...o, config: registryConfig });
  const imageDeps = { db, content, snapshots, images, events, registry, containersUsingImage: (id: string) => repo.usingImage(id).map((r) => ({ id: r.id, running: isRunning(r.state) })) };
  registerImageRoutes(router, imageDeps);
  const buildDeps = {
    images: imageDeps,
    containers,
    cache: new BuildCache(db, (id: string) => images.has(id)),
    buildsDir: paths.builds,
    cacheMountsDir: paths.buildCacheMounts,
    viewMountsDir: paths.buildViewMounts,
  };
  await sweepBuildLeftovers(buildDeps);
  registerBuildRoutes(router, buildDeps);
  registerSystemDfRoutes(router, { containers, images: imageDeps, volumes: () => volumesUsage(volumeDeps), buildCache: async () => buildCacheUsage(buildDeps) });

  // UNIX sockets are plain HTTP; tcp:// hosts use TLS when --tls/--tlsverify say so.
  const servers: Server[] = [];
  const closers: Array<() => void> = [];
  let tlsServer: Server | undefined;
  let plainServer: Server | undefined;
  for (const host of cfg.hosts) {
    let server: Server;
    if (host.startsWith('tcp://') && cfg.tls) {
      server = tlsServer ??= createApiServer(router, {
        key: readFileSync(cfg.tls.key),
        cert: readFileSync(cfg.tls.cert),
        ca: cfg.tls.verify ? readFileSync(cfg.tls.cacert) : undefined,
        verify: cfg.tls.verify,
      });
    } else {
      if (host.startsWith('tcp://')) log.warn('serving the API on plain TCP: anyone who can reach it controls the host; use --tlsverify', { host });
      server = plainServer ??= createApiServer(router);
    }
    if (!servers.includes(server)) servers.push(server);
    closers.push(await listen(server, host));
    log.info('API listening', { host, tls: host.startsWith('tcp://') && !!cfg.tls });
  }
  log.info('berthd started', { version: ENGINE_VERSION, dataRoot: cfg.dataRoot, pid: process.pid });

  // SIGTERM/SIGINT: stop serving; containers keep running under conmon.
  const shutdown = (signal: string): void => {
    log.info('shutting down; containers keep running', { signal });
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    for (const close of closers) close();
    network.close();
    db.close();
    try {
      unlinkSync(cfg.pidfile);
    } catch {
      /* gone */
    }
    releaseLock();
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

let cfg: ReturnType<typeof parseDaemonFlags>;
try {
  cfg = parseDaemonFlags(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`berthd: ${errorMessage(err)}\nSee 'berthd --help'.\n`);
  process.exit(125);
}
if (cfg.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (cfg.version) {
  process.stdout.write(`berthd version ${ENGINE_VERSION}\n`);
  process.exit(0);
}
if (cfg.cleanup) {
  cleanup(cfg).then(
    () => process.exit(0),
    (err: unknown) => {
      log.error('cleanup failed', { error: errorMessage(err) });
      process.exit(1);
    },
  );
} else main(cfg).catch((err: unknown) => {
  log.error('failed to start daemon', { error: errorMessage(err) });
  process.exit(1);
});
