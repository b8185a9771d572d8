import type { ContainerConfig, ContainerCreateRequest, HostConfig } from '../../types/docker.ts';
import type { ImageConfig } from '../../types/oci.ts';
import { mergeEnv } from '../../runtime/spec/env.ts';
import { mergeHealthcheck } from './health.ts';

/**
 * The container's Config: the request merged over the image's config, as dockerd does.
 * `defaultHostname` is the short ID, or the host's name with host networking.
 */
export function mergeConfig(req: ContainerCreateRequest, image: ImageConfig, id: string, defaultHostname = id.slice(0, 12)): ContainerConfig {
  const img = image.config ?? {};
  const entrypointGiven = req.Entrypoint !== undefined && req.Entrypoint !== null;
  const cmdGiven = Array.isArray(req.Cmd) && req.Cmd.length > 0;
  // `--entrypoint ""` arrives as [""]: it clears the image's entrypoint.
  let entrypoint = entrypointGiven ? req.Entrypoint! : (img.Entrypoint ?? null);
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = null;
  // A new entrypoint drops the image's CMD (docker semantics).
  const cmd = cmdGiven ? req.Cmd! : entrypointGiven ? null : (img.Cmd ?? null);
  const labels = { ...(img.Labels ?? {}), ...(req.Labels ?? {}) };
  return {
    Hostname: req.Hostname || defaultHostname,
    Domainname: req.Domainname ?? '',
    User: req.User || img.User || '',
    AttachStdin: req.AttachStdin ?? false,
    AttachStdout: req.AttachStdout ?? false,
    AttachStderr: req.AttachStderr ?? false,
    ExposedPorts: req.ExposedPorts ?? img.ExposedPorts ?? undefined,
    Tty: req.Tty ?? false,
    OpenStdin: req.OpenStdin ?? false,
    StdinOnce: req.StdinOnce ?? false,
    Env: mergeEnv(img.Env ?? [], req.Env),
    Cmd: cmd,
    Healthcheck: mergeHealthcheck(req.Healthcheck, img.Healthcheck),
    Image: req.Image,
    // dockerd adds the image's VOLUMEs to the request's (an empty request map takes the image's).
    Volumes: req.Volumes && Object.keys(req.Volumes).length ? { ...(img.Volumes ?? {}), ...req.Volumes } : (img.Volumes ?? req.Volumes ?? null),
    WorkingDir: req.WorkingDir || img.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: req.OnBuild ?? null,
    Labels: labels,
    StopSignal: req.StopSignal || img.StopSignal || undefined,
    StopTimeout: req.StopTimeout ?? undefined,
  };
}

/** HostConfig with dockerd's defaults filled in, so inspect shows the full shape. */
export function normalizeHostConfig(hc: Partial<HostConfig> = {}, runtime: string): HostConfig {
  const mode = !hc.NetworkMode || hc.NetworkMode === 'default' ? 'default' : hc.NetworkMode;
  return {
    ...hc,
    Binds: hc.Binds ?? null,
    LogConfig: hc.LogConfig?.Type ? { Type: hc.LogConfig.Type, Config: hc.LogConfig.Config ?? {} } : { Type: 'json-file', Config: {} },
    NetworkMode: mode,
    PortBindings: hc.PortBindings ?? {},
    RestartPolicy: { Name: hc.RestartPolicy?.Name || 'no', MaximumRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0 },
    AutoRemove: hc.AutoRemove ?? false,
    CapAdd: hc.CapAdd ?? null,
    CapDrop: hc.CapDrop ?? null,
    CgroupnsMode: hc.CgroupnsMode || 'host',
    Dns: hc.Dns ?? [],
    DnsOptions: hc.DnsOptions ?? [],
    DnsSearch: hc.DnsSearch ?? [],
    ExtraHosts: hc.ExtraHosts ?? null,
    IpcMode: hc.IpcMode || 'private',
    Privileged: hc.Privileged ?? false,
    ReadonlyRootfs: hc.ReadonlyRootfs ?? false,
    ShmSize: hc.ShmSize || 64 * 1024 * 1024,
    Runtime: hc.Runtime || runtime,
    ConsoleSize: hc.ConsoleSize ?? [0, 0],
    CpuShares: hc.CpuShares ?? 0,
    Memory: hc.Memory ?? 0,
    MemorySwap: hc.MemorySwap ?? 0,
    NanoCpus: hc.NanoCpus ?? 0,
    PidsLimit: hc.PidsLimit ?? null,
  };
}

/** The process the container runs: entrypoint followed by cmd. */
export function processArgs(cfg: ContainerConfig): string[] {
  return [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])];
}
