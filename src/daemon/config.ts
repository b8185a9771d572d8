import { join } from 'node:path';
import { DEFAULT_PLUGIN_DIRS, type PluginDirs } from '../volumes/plugin/discovery.ts';

/** berthd's settings, from flags (dockerd's names where they exist). */
export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  pidfile: string;
  logLevel: string;
  debug: boolean;
  defaultRuntime: 'runc' | 'crun';
  /** overlay or vfs; absent: the one the data root was made with, else overlay. */
  storageDriver?: 'overlay' | 'vfs';
  cgroupParent: string;
  /**
   * Remount the host's cgroup2 hierarchy with favordynmods at start (default true; false:
   * --no-cgroup-favordynmods). See src/os/favordynmods.ts.
   */
  cgroupFavorDynmods?: boolean;
  /** Where volume plugins are discovered (Docker's /run/docker/plugins, /etc/docker/plugins). */
  pluginDirs: PluginDirs;
  /** TLS for tcp:// hosts (dockerd's --tls, --tlsverify, --tlscacert, --tlscert, --tlskey). */
  tls?: { verify: boolean; cacert: string; cert: string; key: string };
  /** Default log driver and options of new containers (dockerd's --log-driver, --log-opt). */
  logDriver?: string;
  logOpts?: Record<string, string>;
  /** Registries (dockerd's registry-mirrors, insecure-registries; CA trust from certsDir/<host>/). */
  registry?: { mirrors: string[]; insecure: string[]; certsDir: string };
  /** Networking (issue 6): every kernel object name is configurable, so several daemons coexist. */
  network?: NetworkConfig;
}

export interface NetworkConfig {
  /** The default bridge's interface (dockerd's -b/--bridge). */
  bridge: string;
  /** The default bridge's address/prefix (dockerd's --bip). */
  bip?: string;
  /** dockerd's --default-address-pool, "base=CIDR,size=N" each. */
  defaultAddressPools: string[];
  /** The nftables table (family inet) holding all of this daemon's rules. */
  nftTable: string;
  /** Prefix of the interfaces berthd names: user bridges `<p>-<id>`, veths `<p>v<hex>`. */
  ifacePrefix: string;
  /** false (--no-egress): containers reach nothing beyond berth's bridges and the host, and the embedded DNS forwards nowhere (test daemons). */
  egress?: boolean;
}

export const DEFAULT_NETWORK_CONFIG: NetworkConfig = { bridge: 'berth0', defaultAddressPools: [], nftTable: 'berth', ifacePrefix: 'berth' };

export const DEFAULT_CONFIG: DaemonConfig = {
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  hosts: ['unix:///run/berth/berth.sock'],
  pidfile: '/run/berth/berthd.pid',
  logLevel: 'info',
  debug: false,
  defaultRuntime: 'runc',
  cgroupParent: 'berth',
  pluginDirs: DEFAULT_PLUGIN_DIRS,
};

/** Where things live under the data root (persistent) and exec root (tmpfs, gone at reboot). */
export function daemonPaths(cfg: DaemonConfig) {
  return {
    db: join(cfg.dataRoot, 'meta.db'),
    content: join(cfg.dataRoot, 'content'),
    snapshots: join(cfg.dataRoot, 'snapshots'),
    volumes: join(cfg.dataRoot, 'volumes'),
    containers: join(cfg.dataRoot, 'containers'),
    /** Build contexts being unpacked (issue 4); anything here at startup is a crash's leftover. */
    builds: join(cfg.dataRoot, 'builds'),
    /** RUN --mount=type=cache directories, kept across builds until `builder prune`. */
    buildCacheMounts: join(cfg.dataRoot, 'build-cache-mounts'),
    /** Image views mounted for RUN --mount=type=bind,from= (exec root: gone at reboot). */
    buildViewMounts: join(cfg.execRoot, 'build-mounts'),
    lock: join(cfg.dataRoot, 'berthd.lock'),
    bundles: join(cfg.execRoot, 'containers'),
    runtimeRoot: join(cfg.execRoot, 'runc'),
  };
}
export type DaemonPaths = ReturnType<typeof daemonPaths>;
