// Host resource facts the spec builder needs (kept here: os/ is what reads the host).
import { readFile, access } from 'node:fs/promises';

/**
 * berthd's own hard RLIMIT_NOFILE. A container cannot be given more without CAP_SYS_RESOURCE in
 * the daemon's user namespace (runc then fails with "error setting rlimit type 7").
 */
export async function nofileHardLimit(): Promise<number | undefined> {
  const text = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  return m[2] === 'unlimited' ? undefined : Number(m[2]);
}

/** Can swap be limited (cgroup v1 memory.memsw.*, v2 memory.swap.max)? */
export async function swapLimitSupported(): Promise<boolean> {
  for (const f of ['/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes', '/sys/fs/cgroup/memory.swap.max']) {
    if (await access(f).then(() => true, () => false)) return true;
  }
  // On v2 the root cgroup has no memory.swap.max; its presence in a child is what counts.
  const ctrls = await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').catch(() => '');
  return /\bmemory\b/.test(ctrls) && (await access('/proc/swaps').then(() => true, () => false));
}

/**
 * The capabilities berthd itself may hand out (its bounding set, by name). A sandboxed host can
 * lack some (this VM has no CAP_SYS_RESOURCE); asking runc for one fails "unable to apply caps".
 */
export async function boundingCapabilities(names: readonly string[]): Promise<string[] | undefined> {
  const text = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const m = /^CapBnd:\s*([0-9a-f]+)/m.exec(text);
  if (!m) return undefined;
  const mask = BigInt(`0x${m[1]}`);
  return names.filter((_n, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The init for `--init`: Debian's static tini (Docker ships tini as docker-init). */
export async function initBinary(): Promise<string | undefined> {
  // Static only: it runs inside images without a libc.
  for (const p of ['/usr/bin/docker-init', '/usr/bin/tini-static']) {
    if (await access(p).then(() => true, () => false)) return p;
  }
  return undefined;
}
