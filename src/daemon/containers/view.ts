import { parseTime } from '../../lib/time.ts';
import { humanDuration } from '../../lib/units.ts';
import type { ContainerInspect, ContainerSummary, EndpointSettings } from '../../types/docker.ts';
import { processArgs } from './config.ts';
import { containerPaths, type ContainerDeps } from './deps.ts';
import type { ContainerRecord } from './record.ts';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../runtime/spec/build.ts';
import type { NetworkController } from '../../network/controller.ts';
import { endpointSettings, portSettings, portSummaries, primarySettings } from './network.ts';


function quoteArg(a: string): string {
  return /\s/.test(a) || a === '' ? `'${a}'` : a;
}

/** ps's COMMAND: path and args, args with spaces single-quoted (moby's list.go). */
export function commandString(rec: ContainerRecord): string {
  const [path, ...args] = processArgs(rec.config);
  return [path ?? '', ...args.map(quoteArg)].join(' ');
}

function unixSeconds(rfc3339: string): number {
  return Math.floor(parseTime(rfc3339) / 1000);
}

/** ps's STATUS column: "Up 3 seconds", "Exited (0) 5 seconds ago", "Created". */
export function statusString(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.state;
  switch (s.status) {
    case 'running':
      // moby's Health.String: "health: starting", "healthy", "unhealthy".
      if (s.health) return `Up ${humanDuration(now - parseTime(s.startedAt))} (${s.health.Status === 'starting' ? 'health: starting' : s.health.Status})`;
      return `Up ${humanDuration(now - parseTime(s.startedAt))}`;
    case 'paused':
      return `Up ${humanDuration(now - parseTime(s.startedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${humanDuration(now - parseTime(s.finishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return `Exited (${s.exitCode}) ${humanDuration(now - parseTime(s.finishedAt))} ago`;
    default:
      return 'Created';
  }
}

function networks(rec: ContainerRecord, net?: NetworkController): Record<string, EndpointSettings> {
  return endpointSettings(net, rec);
}

export function summary(rec: ContainerRecord, sizes?: { rw: number; rootFs: number }, deps?: Pick<ContainerDeps, 'volumes' | 'network'>): ContainerSummary {
  const out: ContainerSummary = {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.imageRef,
    ImageID: rec.imageId,
    Command: commandString(rec),
    Created: unixSeconds(rec.created),
    Ports: portSummaries(deps?.network, rec),
    Labels: rec.config.Labels ?? {},
    State: rec.state.status,
    Status: statusString(rec),
    HostConfig: { NetworkMode: rec.hostConfig.NetworkMode },
    NetworkSettings: { Networks: networks(rec, deps?.network) },
    Mounts: deps?.volumes?.mountPoints(rec.id) ?? [],
  };
  if (sizes) {
    out.SizeRw = sizes.rw;
    out.SizeRootFs = sizes.rootFs;
  }
  return out;
}

/** Running exec instances of the container (null when none, as dockerd). */
function execIdsOf(deps: ContainerDeps, id: string): string[] | null {
  const ids = deps.execIds?.(id) ?? [];
  return ids.length ? ids : null;
}

export function inspect(deps: ContainerDeps, rec: ContainerRecord): ContainerInspect {
  const paths = containerPaths(deps, rec.id);
  const [path, ...args] = processArgs(rec.config);
  const s = rec.state;
  const privileged = rec.hostConfig.Privileged;
  return {
    Id: rec.id,
    Created: rec.created,
    Path: path ?? '',
    Args: args,
    State: {
      Status: s.status,
      Running: s.status === 'running' || s.status === 'paused' || s.status === 'restarting',
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
      ...(s.health ? { Health: { Status: s.health.Status, FailingStreak: s.health.FailingStreak, Log: [...s.health.Log] } } : {}),
    },
    Image: rec.imageId,
    ResolvConfPath: paths.resolvConfPath,
    HostnamePath: paths.hostnamePath,
    HostsPath: paths.hostsPath,
    LogPath: rec.hostConfig.LogConfig?.Type === 'none' ? '' : paths.logPath,
    Name: `/${rec.name}`,
    RestartCount: rec.restartCount,
    Driver: deps.storageDriver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIdsOf(deps, rec.id),
    HostConfig: {
      ...rec.hostConfig,
      MaskedPaths: rec.hostConfig.MaskedPaths ?? (privileged ? null : [...DEFAULT_MASKED_PATHS]),
      ReadonlyPaths: rec.hostConfig.ReadonlyPaths ?? (privileged ? null : [...DEFAULT_READONLY_PATHS]),
    },
    GraphDriver: { Data: null, Name: deps.storageDriver },
    Mounts: deps.volumes?.mountPoints(rec.id) ?? [],
    Config: rec.config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: s.pid && rec.hostConfig.NetworkMode !== 'host' ? rec.id : '',
      SandboxKey: s.pid && rec.hostConfig.NetworkMode !== 'host' ? `/proc/${s.pid}/ns/net` : '',
      Ports: portSettings(deps.network, rec),
      ...primarySettings(deps.network, rec, rec.hostConfig),
      Networks: networks(rec, deps.network),
    },
  };
}

/** GET /containers/{id}/json */
export function inspectContainer(deps: ContainerDeps, ref: string): ContainerInspect {
  return inspect(deps, deps.repo.find(ref));
}
