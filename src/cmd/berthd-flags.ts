import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { DEFAULT_CONFIG, DEFAULT_NETWORK_CONFIG, type DaemonConfig } from '../daemon/config.ts';
import { InvalidParameter } from '../lib/errors.ts';
import { isLogLevel } from '../lib/logger.ts';
import { validateLogConfig } from '../daemon/containers/logconfig.ts';

export const USAGE = `Usage: berthd [OPTIONS]

A container engine that serves the Docker Engine API.

Options:
      --data-root string         Root directory of persistent state (default "/var/lib/berth")
      --exec-root string         Root directory for execution state (default "/run/berth")
  -H, --host list                Daemon socket(s) to listen on: unix://, tcp:// or fd:// (systemd socket activation) (default unix:///run/berth/berth.sock)
  -p, --pidfile string           Path to use for the daemon PID file (default "/run/berth/berthd.pid")
  -l, --log-level string         Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -D, --debug                    Enable debug mode
      --default-runtime string   Default OCI runtime for containers ("runc"|"crun") (default "runc")
      --storage-driver string    Storage driver to use: overlay2 (alias overlay) or vfs (default: the data
                                 root's, else overlay2)
      --cgroup-parent string     Parent cgroup for all containers (default "berth")
      --no-cgroup-favordynmods   Leave the host's cgroup2 mount as it is (by default berthd remounts it with
                                 favordynmods: moving a process into a cgroup then no longer waits for an
                                 RCU grace period, ~7 ms per container start and exec on a 2-core VM)
      --plugin-dir list          Look for volume plugins (NAME.sock, NAME.spec, NAME.json) here instead of
                                 /run/docker/plugins, /etc/docker/plugins and /usr/lib/docker/plugins
      --log-driver string        Default driver for container logs ("json-file"|"none") (default "json-file")
      --log-opt map              Default log driver options for containers (default map[])
      --tls                      Use TLS on tcp:// hosts; implied by --tlsverify
      --tlsverify                Use TLS and verify the remote (clients need a certificate signed by --tlscacert)
      --tlscacert string         Trust certs signed only by this CA (default "~/.docker/ca.pem")
      --tlscert string           Path to TLS certificate file (default "~/.docker/cert.pem")
      --tlskey string            Path to TLS key file (default "~/.docker/key.pem")
      --registry-mirror list     Preferred registry mirror for docker.io (berth contacts no public registry)
      --insecure-registry list   Registries (host[:port] or CIDR) reached over plain HTTP; loopback always is
      --certs-dir string         Per-registry CA certificates, <dir>/<host:port>/ca.crt (default "/etc/berth/certs.d")
      --config-file string       Daemon configuration file (default "/etc/berth/daemon.json")
  -b, --bridge string            Attach containers to a network bridge (default "berth0")
      --bip string               Specify network bridge IP (e.g. 172.17.0.1/16)
      --default-address-pool list  Default address pools for user networks: base=CIDR,size=N
      --nft-table string         nftables table (family inet) for berthd's rules (default "berth")
      --iface-prefix string      Prefix of interface names berthd makes (default "berth")
      --cleanup                  Remove every network object berthd made (bridges, veths, nftables table) and exit
      --no-egress                Containers reach only the host and berth's bridges; the embedded DNS forwards nowhere
  -v, --version                  Print version information and quit
  -h, --help                     Print usage
`;

const DEFAULT_DAEMON_JSON = '/etc/berth/daemon.json';

/** The registry keys of daemon.json (dockerd's names); a missing default file is fine. */
function readDaemonJson(path: string | undefined): { 'registry-mirrors'?: string[]; 'insecure-registries'?: string[] } {
  const p = path ?? DEFAULT_DAEMON_JSON;
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (err) {
    if (path === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InvalidParameter(`cannot read ${p}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as { 'registry-mirrors'?: string[]; 'insecure-registries'?: string[] };
  } catch (err) {
    throw new InvalidParameter(`${p}: ${(err as Error).message}`);
  }
}

export function parseDaemonFlags(argv: string[]): DaemonConfig & { help: boolean; version: boolean; cleanup: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-root': { type: 'string' },
      'exec-root': { type: 'string' },
      host: { type: 'string', short: 'H', multiple: true },
      pidfile: { type: 'string', short: 'p' },
      'log-level': { type: 'string', short: 'l' },
      debug: { type: 'boolean', short: 'D' },
      'default-runtime': { type: 'string' },
      'storage-driver': { type: 'string' },
      'cgroup-parent': { type: 'string' },
      'no-cgroup-favordynmods': { type: 'boolean' },
      'plugin-dir': { type: 'string', multiple: true },
      'log-driver': { type: 'string' },
      'log-opt': { type: 'string', multiple: true },
      tls: { type: 'boolean' },
      tlsverify: { type: 'boolean' },
      tlscacert: { type: 'string' },
      tlscert: { type: 'string' },
      tlskey: { type: 'string' },
      'registry-mirror': { type: 'string', multiple: true },
      'insecure-registry': { type: 'string', multiple: true },
      'certs-dir': { type: 'string' },
      'config-file': { type: 'string' },
      bridge: { type: 'string', short: 'b' },
      bip: { type: 'string' },
      'default-address-pool': { type: 'string', multiple: true },
      'nft-table': { type: 'string' },
      'iface-prefix': { type: 'string' },
      cleanup: { type: 'boolean' },
      'no-egress': { type: 'boolean' },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  // Absolute, as dockerd makes them: conmon and runc run in other working directories.
  const execRoot = resolve(values['exec-root'] ?? DEFAULT_CONFIG.execRoot);
  const runtime = values['default-runtime'] ?? 'runc';
  if (runtime !== 'runc' && runtime !== 'crun') throw new InvalidParameter(`unknown runtime: ${runtime} (runc or crun)`);
  const storage = values['storage-driver'];
  if (storage !== undefined && storage !== 'overlay' && storage !== 'overlay2' && storage !== 'vfs') throw new InvalidParameter(`unsupported storage driver: ${storage} (overlay2 or vfs)`);
  const debug = values.debug ?? false;
  const logLevel = values['log-level'] ?? (debug ? 'debug' : 'info');
  if (!isLogLevel(logLevel)) throw new InvalidParameter(`invalid log level: ${logLevel}`);
  const certDir = process.env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const tlsOn = values.tls || values.tlsverify;
  const tls = tlsOn
    ? { verify: values.tlsverify ?? false, cacert: values.tlscacert ?? join(certDir, 'ca.pem'), cert: values.tlscert ?? join(certDir, 'cert.pem'), key: values.tlskey ?? join(certDir, 'key.pem') }
    : undefined;
  const network = {
    bridge: values.bridge ?? DEFAULT_NETWORK_CONFIG.bridge,
    bip: values.bip,
    defaultAddressPools: values['default-address-pool'] ?? [],
    nftTable: values['nft-table'] ?? DEFAULT_NETWORK_CONFIG.nftTable,
    ifacePrefix: values['iface-prefix'] ?? DEFAULT_NETWORK_CONFIG.ifacePrefix,
    egress: !values['no-egress'],
  };
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(network.bridge)) throw new InvalidParameter(`invalid bridge name: ${network.bridge}`);
  if (!/^[a-zA-Z0-9_]{1,64}$/.test(network.nftTable)) throw new InvalidParameter(`invalid nftables table name: ${network.nftTable}`);
  if (!/^[a-zA-Z0-9]{1,8}$/.test(network.ifacePrefix)) throw new InvalidParameter(`invalid interface prefix (1-8 letters or digits): ${network.ifacePrefix}`);
  const logOpts: Record<string, string> = {};
  for (const kv of values['log-opt'] ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new InvalidParameter(`invalid key value pair format in log-opt: ${kv}`);
    logOpts[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const logDriver = values['log-driver'] ?? 'json-file';
  validateLogConfig({ Type: logDriver, Config: logOpts });
  const file = readDaemonJson(values['config-file']);
  const registry = {
    mirrors: [...(file['registry-mirrors'] ?? []), ...(values['registry-mirror'] ?? [])],
    insecure: [...(file['insecure-registries'] ?? []), ...(values['insecure-registry'] ?? [])],
    certsDir: values['certs-dir'] ?? '/etc/berth/certs.d',
  };
  for (const m of registry.mirrors) {
    if (!/^https?:\/\/[^/]+\/?$/.test(m)) throw new InvalidParameter(`invalid registry mirror: ${m} (http(s)://host[:port])`);
  }
  return {
    registry,
    network,
    cleanup: values.cleanup ?? false,
    tls,
    logDriver,
    logOpts,
    dataRoot: resolve(values['data-root'] ?? DEFAULT_CONFIG.dataRoot),
    execRoot,
    hosts: values.host && values.host.length > 0 ? values.host : DEFAULT_CONFIG.hosts,
    pidfile: resolve(values.pidfile ?? join(execRoot, 'berthd.pid')),
    logLevel,
    debug,
    defaultRuntime: runtime,
    storageDriver: storage === undefined ? undefined : storage === 'vfs' ? 'vfs' : 'overlay',
    cgroupParent: values['cgroup-parent'] ?? DEFAULT_CONFIG.cgroupParent,
    cgroupFavorDynmods: !values['no-cgroup-favordynmods'],
    pluginDirs: values['plugin-dir']?.length ? { sockets: values['plugin-dir'], specs: values['plugin-dir'] } : DEFAULT_CONFIG.pluginDirs,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}
