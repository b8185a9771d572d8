// The flags `run` and `create` share, and their translation into the create request body. Docker
// validates some of them client-side (sizes, --cpus, restart policy) and exits 125 before any
// request; we do the same with the same texts. The body is the full struct the docker CLI sends.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parseBytes, parseDuration } from '../../../lib/units.ts';
import type { ContainerCreateRequest, HealthConfig, RestartPolicy } from '../../../types/docker.ts';
import { collect } from '../../command.ts';
import { CliError, invalidFlag, type CliIO } from '../../context.ts';
import { parseMountFlag } from './mount-flag.ts';

export interface CreateFlags {
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  name?: string;
  entrypoint?: string;
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  label?: string[];
  hostname?: string;
  network?: string;
  /** docker's older spelling of --network */
  net?: string;
  restart?: string;
  tty?: boolean;
  interactive?: boolean;
  stopSignal?: string;
  stopTimeout?: string;
  volume?: string[];
  mount?: string[];
  volumesFrom?: string[];
  volumeDriver?: string;
  publish?: string[];
  /** Networking flags (issue 6). */
  publishAll?: boolean;
  expose?: string[];
  ip?: string;
  ip6?: string;
  networkAlias?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  macAddress?: string;
  privileged?: boolean;
  readOnly?: boolean;
  init?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  addHost?: string[];
  dns?: string[];
  tmpfs?: string[];
  platform?: string;
  rm?: boolean;
  logDriver?: string;
  logOpt?: string[];
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  healthcheck?: boolean;
}

export function addCreateFlags(cmd: Command): Command {
  return (
    cmd
      // -h is --hostname in docker's grammar
      .helpOption('--help', 'Print usage')
      .option('-e, --env <list>', 'Set environment variables', collect)
      .option('--env-file <list>', 'Read in a file of environment variables', collect)
      .option('-w, --workdir <string>', 'Working directory inside the container')
      .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
      .option('--name <string>', 'Assign a name to the container')
      .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
      .option('-m, --memory <bytes>', 'Memory limit')
      .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
      .option('--cpus <decimal>', 'Number of CPUs')
      .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
      .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
      .option('-l, --label <list>', 'Set meta data on a container', collect)
      .option('-h, --hostname <string>', 'Container host name')
      .option('--network <network>', 'Connect a container to a network')
      .addOption(new Option('--net <network>', 'Connect a container to a network').hideHelp())
      .option('--restart <string>', 'Restart policy to apply when a container exits', 'no')
      .option('-t, --tty', 'Allocate a pseudo-TTY')
      .option('-i, --interactive', 'Keep STDIN open even if not attached')
      .option('--stop-signal <string>', 'Signal to stop the container')
      .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
      .option('-v, --volume <list>', 'Bind mount a volume', collect)
      .option('--mount <mount>', 'Attach a filesystem mount to the container', collect)
      .option('--volumes-from <list>', 'Mount volumes from the specified container(s)', collect)
      .option('--volume-driver <string>', 'Optional volume driver for the container')
      .option('-p, --publish <list>', "Publish a container's port(s) to the host", collect)
      .option('-P, --publish-all', 'Publish all exposed ports to random ports')
      .option('--expose <list>', 'Expose a port or a range of ports', collect)
      .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
      .option('--ip6 <string>', 'IPv6 address (e.g., 2001:db8::33)')
      .option('--network-alias <list>', 'Add network-scoped alias for the container', collect)
      .option('--dns-search <list>', 'Set custom DNS search domains', collect)
      .option('--dns-option <list>', 'Set DNS options', collect)
      .option('--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
      .option('--privileged', 'Give extended privileges to this container')
      .option('--read-only', "Mount the container's root filesystem as read only")
      .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
      .option('--cap-add <list>', 'Add Linux capabilities', collect)
      .option('--cap-drop <list>', 'Drop Linux capabilities', collect)
      .option('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', collect)
      .option('--dns <list>', 'Set custom DNS servers', collect)
      .option('--tmpfs <list>', 'Mount a tmpfs directory', collect)
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
      .option('--log-driver <string>', 'Logging driver for the container')
      .option('--log-opt <list>', 'Log driver options', collect)
      .option('--health-cmd <string>', 'Command to run to check health')
      .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 0s)')
      .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)')
      .option('--health-retries <int>', 'Consecutive failures needed to report unhealthy')
      .option('--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)')
      .option('--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h) (default 0s)')
      .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK')
      // everything after IMAGE belongs to the container's command
      .passThroughOptions()
  );
}

export interface CreateRequestInput {
  flags: CreateFlags;
  image: string;
  command: string[];
  /** run -d: no stdio attached. */
  detach: boolean;
  io: Pick<CliIO, 'env' | 'stdout'>;
}

export interface CreatePlan {
  body: ContainerCreateRequest;
  name: string | undefined;
  platform: string | undefined;
}

/** Validate the flags and build docker's full create body. Throws CliError (exit 125) like docker. */
export function buildCreateRequest(input: CreateRequestInput): CreatePlan {
  const { flags, image, command, detach, io } = input;
  const memory = flags.memory !== undefined ? bytesFlag(flags.memory, '-m, --memory') : 0;
  let memorySwap = 0;
  if (flags.memorySwap !== undefined) memorySwap = flags.memorySwap === '-1' ? -1 : bytesFlag(flags.memorySwap, '--memory-swap');
  const nanoCpus = flags.cpus !== undefined ? parseCpus(flags.cpus) : 0;
  const cpuShares = flags.cpuShares !== undefined ? intFlag(flags.cpuShares, '-c, --cpu-shares') : 0;
  const pidsLimit = flags.pidsLimit !== undefined ? intFlag(flags.pidsLimit, '--pids-limit') : 0;
  const stopTimeout = flags.stopTimeout !== undefined ? intFlag(flags.stopTimeout, '--stop-timeout') : undefined;
  const restartPolicy = parseRestartPolicy(flags.restart ?? 'no');
  if (flags.rm && restartPolicy.Name !== 'no' && restartPolicy.Name !== '') {
    throw new CliError('berth: Conflicting options: --restart and --rm.', { exitCode: 125, hint: true });
  }
  const env = [...readEnvFiles(flags.envFile ?? [], io.env), ...expandEnv(flags.env ?? [], io.env)];
  const labels: Record<string, string> = {};
  for (const l of flags.label ?? []) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  const { binds, volumes } = splitVolumes(flags.volume ?? []);
  const mounts = (flags.mount ?? []).map(parseMountFlag);
  const { exposed, bindings } = parsePorts(flags.publish ?? []);
  for (const e of flags.expose ?? []) {
    const [port, proto = 'tcp'] = e.split('/');
    if (!/^\d+(-\d+)?$/.test(port)) throw invalidFlag(e, '--expose', `invalid range format for --expose: ${e}`);
    exposed[`${port}/${proto}`] = {};
  }
  const tmpfs: Record<string, string> = {};
  for (const t of flags.tmpfs ?? []) {
    const colon = t.indexOf(':');
    tmpfs[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? '' : t.slice(colon + 1);
  }
  const logConfig = parseLogFlags(flags);
  const healthcheck = parseHealthFlags(flags);
  const tty = Boolean(flags.tty);
  const interactive = Boolean(flags.interactive);
  const consoleSize: [number, number] = tty && io.stdout.isTTY ? [io.stdout.rows ?? 0, io.stdout.columns ?? 0] : [0, 0];
  const network = flags.network ?? flags.net ?? 'default';
  const body: ContainerCreateRequest = {
    Hostname: flags.hostname ?? '',
    Domainname: '',
    User: flags.user ?? '',
    AttachStdin: interactive && !detach,
    AttachStdout: !detach,
    AttachStderr: !detach,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: tty,
    OpenStdin: interactive,
    StdinOnce: interactive && !detach,
    Env: env.length ? env : null,
    Cmd: command.length ? command : null,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: image,
    Volumes: volumes,
    WorkingDir: flags.workdir ?? '',
    Entrypoint: flags.entrypoint !== undefined ? [flags.entrypoint] : null,
    OnBuild: null,
    Labels: labels,
    ...(flags.stopSignal ? { StopSignal: flags.stopSignal } : {}),
    ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
    HostConfig: {
      Binds: binds.length ? binds : null,
      ContainerIDFile: '',
      LogConfig: logConfig,
      NetworkMode: network,
      PortBindings: bindings,
      RestartPolicy: restartPolicy,
      AutoRemove: Boolean(flags.rm),
      VolumeDriver: flags.volumeDriver ?? '',
      VolumesFrom: flags.volumesFrom ?? null,
      ConsoleSize: consoleSize,
      CapAdd: flags.capAdd ?? null,
      CapDrop: flags.capDrop ?? null,
      CgroupnsMode: '',
      Dns: flags.dns ?? [],
      DnsOptions: flags.dnsOption ?? [],
      DnsSearch: flags.dnsSearch ?? [],
      ExtraHosts: flags.addHost ?? null,
      GroupAdd: null,
      IpcMode: '',
      Cgroup: '',
      Links: null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: Boolean(flags.privileged),
      PublishAllPorts: Boolean(flags.publishAll),
      ReadonlyRootfs: Boolean(flags.readOnly),
      SecurityOpt: null,
      ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
      ...(mounts.length ? { Mounts: mounts } : {}),
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 0,
      Isolation: '',
      CpuShares: cpuShares,
      Memory: memory,
      NanoCpus: nanoCpus,
      CgroupParent: '',
      BlkioWeight: 0,
      CpuPeriod: 0,
      CpuQuota: 0,
      CpusetCpus: '',
      CpusetMems: '',
      Devices: [],
      MemoryReservation: 0,
      MemorySwap: memorySwap,
      MemorySwappiness: -1,
      OomKillDisable: false,
      PidsLimit: pidsLimit,
      Ulimits: [],
      ...(flags.init ? { Init: true } : {}),
      MaskedPaths: null,
      ReadonlyPaths: null,
    },
    NetworkingConfig: { EndpointsConfig: endpointsConfig(network, flags) },
  };
  return { body, name: flags.name, platform: flags.platform };
}

/** docker's EndpointsConfig: `default` without --network; the named network's settings with one. */
function endpointsConfig(network: string, flags: CreateFlags): Record<string, Record<string, unknown>> {
  const custom = flags.ip || flags.ip6 || flags.networkAlias?.length || flags.macAddress;
  if (!custom) return network === 'default' ? { default: zeroEndpoint() } : {};
  return {
    [network]: {
      ...zeroEndpoint(),
      IPAMConfig: flags.ip || flags.ip6 ? { IPv4Address: flags.ip ?? '', IPv6Address: flags.ip6 ?? '' } : null,
      Aliases: flags.networkAlias ?? null,
      MacAddress: flags.macAddress ?? '',
    },
  };
}

function zeroEndpoint(): Record<string, unknown> {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

/** --log-driver / --log-opt as the docker CLI sends them (`k` without `=` is an empty value). */
function parseLogFlags(flags: CreateFlags): { Type: string; Config: Record<string, string> } {
  const config: Record<string, string> = {};
  for (const kv of flags.logOpt ?? []) {
    const eq = kv.indexOf('=');
    config[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  const type = flags.logDriver ?? '';
  if (type === 'none' && (flags.logOpt ?? []).length > 0) throw new CliError(`berth: invalid logging opts for driver ${type}.`, { exitCode: 125, hint: true });
  return { Type: type, Config: config };
}

/** The --health-* flags (durations in ns), or --no-healthcheck (`["NONE"]`), as the docker CLI builds them. */
function parseHealthFlags(flags: CreateFlags): HealthConfig | undefined {
  const dur = (v: string | undefined, flag: string): number => {
    if (v === undefined) return 0;
    try {
      return Math.round(parseDuration(v) * 1e6);
    } catch {
      throw invalidFlag(v, flag, `time: invalid duration "${v}"`);
    }
  };
  const interval = dur(flags.healthInterval, '--health-interval');
  const timeout = dur(flags.healthTimeout, '--health-timeout');
  const startPeriod = dur(flags.healthStartPeriod, '--health-start-period');
  const startInterval = dur(flags.healthStartInterval, '--health-start-interval');
  const retries = flags.healthRetries !== undefined ? intFlag(flags.healthRetries, '--health-retries') : 0;
  const cmd = flags.healthCmd ?? '';
  const have = cmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0 || startInterval !== 0;
  // commander's --no-healthcheck sets healthcheck=false
  if (flags.healthcheck === false) {
    if (have) throw new CliError('berth: --no-healthcheck conflicts with --health-* options.', { exitCode: 125, hint: true });
    return { Test: ['NONE'] };
  }
  if (!have) return undefined;
  const negative = (v: number, flag: string): void => {
    if (v < 0) throw new CliError(`berth: ${flag} cannot be negative.`, { exitCode: 125, hint: true });
  };
  negative(interval, '--health-interval');
  negative(timeout, '--health-timeout');
  negative(retries, '--health-retries');
  negative(startPeriod, '--health-start-period');
  negative(startInterval, '--health-start-interval');
  // The docker CLI sends the struct with Go's omitempty: zero fields are left out.
  const hc: HealthConfig = {};
  if (cmd) hc.Test = ['CMD-SHELL', cmd];
  if (interval) hc.Interval = interval;
  if (timeout) hc.Timeout = timeout;
  if (startPeriod) hc.StartPeriod = startPeriod;
  if (startInterval) hc.StartInterval = startInterval;
  if (retries) hc.Retries = retries;
  return hc;
}

function bytesFlag(value: string, flag: string): number {
  try {
    return parseBytes(value);
  } catch (err) {
    throw invalidFlag(value, flag, (err as Error).message);
  }
}

function intFlag(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw invalidFlag(value, flag, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}

/** --cpus as docker's NanoCPUs: a decimal ("0.5", "1.25") or a ratio ("1/2") × 1e9. */
export function parseCpus(value: string): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(?:\/(\d+))?$/.exec(value.trim());
  if (!m) throw invalidFlag(value, '--cpus', `failed to parse ${value} as a rational number`);
  const n = Number(m[1]) / (m[2] ? Number(m[2]) : 1);
  const nano = n * 1e9;
  if (!Number.isInteger(Math.round(nano * 1e6) / 1e6)) throw invalidFlag(value, '--cpus', 'value is too precise');
  return Math.round(nano);
}

export function parseRestartPolicy(value: string): RestartPolicy {
  const [name, count, ...extra] = value.split(':');
  const allowed = ['', 'no', 'always', 'unless-stopped', 'on-failure'];
  if (extra.length || !allowed.includes(name)) {
    throw invalidFlag(value, '--restart', `invalid restart policy format: ${value}`);
  }
  if (count !== undefined && !/^\d+$/.test(count)) {
    throw invalidFlag(value, '--restart', 'invalid restart policy format: maximum retry count must be an integer');
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: count ? Number(count) : 0 };
}

/** `-e FOO` takes FOO from our environment (dropped if unset), `-e FOO=bar` is literal. */
function expandEnv(entries: string[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.includes('=')) out.push(e);
    else if (env[e] !== undefined) out.push(`${e}=${env[e]}`);
  }
  return out;
}

function readEnvFiles(files: string[], env: NodeJS.ProcessEnv): string[] {
  const lines: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(`berth: open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}.`, {
        exitCode: 125,
        hint: true,
      });
    }
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trimStart();
      if (line === '' || line.startsWith('#')) continue;
      lines.push(line);
    }
  }
  return expandEnv(lines, env);
}

/** `-v name:/path[:ro]` and `-v /host:/path` are binds; `-v /path` is an anonymous volume. */
function splitVolumes(specs: string[]): { binds: string[]; volumes: Record<string, object> } {
  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const spec of specs) {
    if (spec.includes(':')) binds.push(spec);
    else volumes[spec] = {};
  }
  return { binds, volumes };
}

/** -p [ip:][hostPort:]containerPort[/proto] */
function parsePorts(specs: string[]): {
  exposed: Record<string, object>;
  bindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
} {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const spec of specs) {
    const [addr, proto = 'tcp'] = spec.split('/');
    const parts = addr.split(':');
    const containerPort = parts.pop() ?? '';
    const hostPort = parts.pop() ?? '';
    const hostIp = parts.join(':').replace(/^\[|\]$/g, '');
    if (!/^\d+(-\d+)?$/.test(containerPort)) throw invalidFlag(spec, '-p, --publish', `invalid containerPort: ${containerPort}`);
    const key = `${containerPort}/${proto}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: hostIp, HostPort: hostPort });
  }
  return { exposed, bindings };
}
