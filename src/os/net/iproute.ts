// iproute2 and nftables: the data plane's only contact with the kernel. One process per batch.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { run } from '../exec.ts';
import { SystemError } from '../../lib/errors.ts';

export interface LinkInfo {
  ifname: string;
  kind: string;
  master?: string;
}

/** Host operations of the data plane: iproute2 and nftables, plus sysctls. */
export interface NetHost {
  /** Run iproute2 commands in one `ip -batch` (in the netns of `netnsPid` if given). */
  ipBatch(lines: readonly string[], opts?: { netnsPid?: number; force?: boolean }): Promise<void>;
  links(): Promise<LinkInfo[]>;
  linkExists(name: string): boolean;
  /** The prefixes the host routes (to avoid when picking a subnet). */
  routes(): Promise<string[]>;
  setSysctl(key: string, value: string): Promise<void>;
  /** Apply an nft script in one transaction. */
  nft(script: string): Promise<void>;
  nftTables(): Promise<Array<{ family: string; name: string }>>;
}

const IP = '/usr/sbin/ip';
const NFT = '/usr/sbin/nft';
const NSENTER = '/usr/bin/nsenter';

async function ipBatch(lines: readonly string[], opts: { netnsPid?: number; force?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return;
  const args = ['-batch', '-'];
  if (opts.force) args.unshift('-force');
  // A container's netns is reached through its process (the netns lives and dies with it).
  const res = opts.netnsPid
    ? await run(NSENTER, [`--net=/proc/${opts.netnsPid}/ns/net`, IP, ...args], { input: lines.join('\n') + '\n', allowFailure: true, timeoutMs: 20_000 })
    : await run(IP, args, { input: lines.join('\n') + '\n', allowFailure: true, timeoutMs: 20_000 });
  if (res.code !== 0 && !opts.force) {
    const msg = res.stderr.trim().split('\n').filter((l) => !/^Command failed/.test(l)).join('; ') || `exit status ${res.code}`;
    throw new SystemError(`ip: ${msg}`);
  }
}

async function ipJson<T>(args: string[]): Promise<T> {
  const res = await run(IP, ['-j', ...args], { timeoutMs: 20_000 });
  return JSON.parse(res.stdout || '[]') as T;
}

async function links(): Promise<LinkInfo[]> {
  const raw = await ipJson<Array<{ ifname: string; master?: string; linkinfo?: { info_kind?: string } }>>(['-d', 'link', 'show']);
  return raw.map((l) => ({ ifname: l.ifname, kind: l.linkinfo?.info_kind ?? '', master: l.master }));
}

async function routes(): Promise<string[]> {
  const out: string[] = [];
  for (const fam of ['-4', '-6']) {
    const raw = await ipJson<Array<{ dst: string }>>([fam, 'route', 'show', 'table', 'all']);
    for (const r of raw) if (r.dst && r.dst !== 'default' && !r.dst.startsWith('fe80') && !r.dst.startsWith('ff00')) out.push(r.dst.includes('/') ? r.dst : r.dst + (r.dst.includes(':') ? '/128' : '/32'));
  }
  return out;
}

async function setSysctl(key: string, value: string): Promise<void> {
  await writeFile(`/proc/sys/${key.replace(/\./g, '/')}`, value);
}

async function nft(script: string): Promise<void> {
  const res = await run(NFT, ['-f', '-'], { input: script, allowFailure: true, timeoutMs: 20_000 });
  if (res.code !== 0) throw new SystemError(`nft: ${res.stderr.trim() || `exit status ${res.code}`}`);
}

async function nftTables(): Promise<Array<{ family: string; name: string }>> {
  const res = await run(NFT, ['-j', 'list', 'tables'], { timeoutMs: 20_000 });
  const parsed = JSON.parse(res.stdout || '{}') as { nftables?: Array<{ table?: { family: string; name: string } }> };
  return (parsed.nftables ?? []).flatMap((e) => (e.table ? [{ family: e.table.family, name: e.table.name }] : []));
}

export const realNetHost: NetHost = {
  ipBatch,
  links,
  linkExists: (name) => existsSync(`/sys/class/net/${name}`),
  routes,
  setSysctl,
  nft,
  nftTables,
};
