// Linux capabilities as Docker computes them (moby's caps.TweakCapabilities).
import { InvalidParameter } from '../../lib/errors.ts';

/** Every capability up to CAP_CHECKPOINT_RESTORE (Linux 5.9), in number order. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set (moby oci/caps/defaults.go), in Docker's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** "net_admin" / "CAP_NET_ADMIN" → "CAP_NET_ADMIN"; "all" → "ALL". Unknown → InvalidParameter. */
export function normalizeCapability(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const cap = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!ALL_CAPABILITIES.includes(cap)) throw new InvalidParameter(`unknown capability: "${cap}"`);
  return cap;
}

/** The capability set for a container: privileged → all; ALL in add/drop as Docker treats it. */
export function tweakCapabilities(opts: { add?: readonly string[] | null; drop?: readonly string[] | null; privileged?: boolean }): string[] {
  if (opts.privileged) return [...ALL_CAPABILITIES];
  const add = (opts.add ?? []).map(normalizeCapability);
  const drop = (opts.drop ?? []).map(normalizeCapability);
  if (!add.length && !drop.length) return [...DEFAULT_CAPABILITIES];
  let caps: string[];
  if (add.includes('ALL')) {
    caps = ALL_CAPABILITIES.filter((c) => !drop.includes(c));
  } else if (drop.includes('ALL')) {
    caps = add.filter((c) => c !== 'ALL');
  } else {
    caps = DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
    for (const c of add) caps.push(c);
  }
  return [...new Set(caps)];
}
