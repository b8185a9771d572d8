// Docker's user resolution: `user`, `uid`, `user:group`, `uid:gid` against the container's own
// /etc/passwd and /etc/group (read symlink-safely inside the rootfs).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidParameter } from '../../lib/errors.ts';
import { resolveInRootSync } from './rootpath.ts';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_FILE = 4 << 20; // a passwd file bigger than this is hostile or broken

/**
 * Read a file inside the rootfs; absent (or not a regular file) → ''. Synchronous: a handful of
 * small calls on the rootfs cost less than the dozen thread-pool round trips of the async calls,
 * which were ~1 ms of every exec start on a busy machine; nothing here can block (see the flags).
 */
async function readInRoot(rootfs: string, path: string): Promise<string> {
  const host = resolveInRootSync(rootfs, path);
  let fd;
  try {
    // O_NOFOLLOW: the last component was resolved already; a swap to a symlink in between fails.
    // O_NONBLOCK: a FIFO planted as /etc/passwd must not hang the daemon.
    fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return '';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return '';
    const buf = Buffer.alloc(Math.min(st.size, MAX_FILE));
    const bytesRead = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0], uid, gid, home: f[5] ?? '' });
  }
  return out;
}

function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean) });
  }
  return out;
}

const isNumeric = (s: string): boolean => /^[0-9]+$/.test(s);

/**
 * Resolve `userSpec` (Config.User) in the rootfs. `groupAdd` are HostConfig.GroupAdd entries
 * (names or gids) appended to the supplementary groups.
 */
export async function resolveUser(rootfs: string, userSpec: string, groupAdd: readonly string[] = []): Promise<ResolvedUser> {
  const spec = userSpec.trim();
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);

  const passwd = parsePasswd(await readInRoot(rootfs, '/etc/passwd'));
  let groups: GroupEntry[] | undefined;
  const loadGroups = async (): Promise<GroupEntry[]> => (groups ??= parseGroup(await readInRoot(rootfs, '/etc/group')));

  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  const u = userPart === '' ? passwd.find((p) => p.uid === 0) : isNumeric(userPart) ? passwd.find((p) => p.uid === Number(userPart)) : passwd.find((p) => p.name === userPart);
  if (userPart !== '' && !isNumeric(userPart) && !u) {
    throw new InvalidParameter(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (u) {
    uid = u.uid;
    gid = u.gid;
    home = u.home || '/';
    name = u.name;
  }
  if (isNumeric(userPart)) uid = Number(userPart);

  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = (await loadGroups()).find((x) => x.name === groupPart);
      if (!g) throw new InvalidParameter(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }

  // Supplementary groups from membership, only when the group was not given explicitly (as runc's
  // user.GetExecUser does).
  const additional: number[] = [];
  if (name !== undefined && (groupPart === undefined || groupPart === '')) {
    for (const g of await loadGroups()) if (g.members.includes(name) && !additional.includes(g.gid)) additional.push(g.gid);
  }
  for (const ga of groupAdd) {
    let g: number;
    if (isNumeric(ga)) g = Number(ga);
    else {
      const found = (await loadGroups()).find((x) => x.name === ga);
      if (!found) throw new InvalidParameter(`unable to find group ${ga}: no matching entries in group file`);
      g = found.gid;
    }
    if (!additional.includes(g)) additional.push(g);
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new InvalidParameter(`uids and gids must be in range 0-4294967294`);
  return { uid, gid, additionalGids: additional, home };
}
