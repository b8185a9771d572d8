// Addresses, link state and routes inside a container's network namespace, set over rtnetlink from
// berthd itself instead of `nsenter --net=… ip -batch -` (two execs, ~3–4 ms on every container
// start on the 2-core VM, on the critical path between `runc create` and the start).
//
// A netlink socket belongs to the netns it was created in. berthd's main thread enters the
// container's netns (setns(2) changes only the calling thread's netns), creates the socket and
// returns at once, all in one synchronous stretch: no other JavaScript, and no libuv thread, ever
// runs in the container's netns. The requests then go over that socket; the kernel handles
// rtnetlink requests inside sendmsg, so each answer is queued before send() returns.
import { closeSync, openSync } from 'node:fs';
import { koffiLibc, type Koffi, type KoffiFn } from '../koffi.ts';
import { libc } from '../libc.ts';
import { log } from '../../lib/logger.ts';
import { SystemError } from '../../lib/errors.ts';
import { NLMSG_ERROR, RTM_NEWLINK, addAddressRequest, addDefaultRouteRequest, getLinkRequest, linkUpRequest, parseReplies } from './rtnetlink.ts';

/** One change inside a netns, as the drivers describe it. */
export type NetnsOp =
  | { op: 'addr'; dev: string; cidr: string; nodad?: boolean }
  | { op: 'up'; dev: string }
  | { op: 'default-route'; dev: string; gateway: string };

/** The same changes as iproute2 batch lines (the fallback without koffi). */
export function ipLines(ops: readonly NetnsOp[]): string[] {
  return ops.map((o) => {
    switch (o.op) {
      case 'addr':
        return `addr add ${o.cidr} dev ${o.dev}${o.nodad ? ' nodad' : ''}`;
      case 'up':
        return `link set ${o.dev} up`;
      case 'default-route':
        return `route add default via ${o.gateway} dev ${o.dev}`;
    }
  });
}

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const CLONE_NEWNET = 0x40000000;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const ENODEV = 19;

interface Calls {
  koffi: Koffi;
  socket: KoffiFn;
  setns: KoffiFn;
  send: KoffiFn;
  recv: KoffiFn;
  strerror: (errno: number) => string;
  /** berthd's own netns (the main thread's, opened once), to return to. */
  home: number;
}

let calls: Promise<Calls | undefined> | undefined;

async function bind(): Promise<Calls | undefined> {
  const [bound, lc] = await Promise.all([koffiLibc(), libc()]);
  if (!bound || !lc) return undefined;
  const { koffi, func } = bound;
  return {
    koffi,
    socket: func('int socket(int domain, int type, int protocol)'),
    setns: func('int setns(int fd, int nstype)'),
    send: func('long send(int fd, const void *buf, size_t len, int flags)'),
    recv: func('long recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    strerror: lc.strerror,
    home: openSync('/proc/thread-self/ns/net', 'r'),
  };
}

/** A NETLINK_ROUTE socket in the netns of `pid`'s process. */
function socketInNetns(c: Calls, pid: number): number {
  const target = openSync(`/proc/${pid}/ns/net`, 'r');
  try {
    if (c.setns(target, CLONE_NEWNET) !== 0) throw new SystemError(`entering the netns of process ${pid}: ${c.strerror(c.koffi.errno())}`);
    let fd: number;
    let errno = 0;
    try {
      fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) as number;
      if (fd < 0) errno = c.koffi.errno();
    } finally {
      if (c.setns(c.home, CLONE_NEWNET) !== 0) {
        // Every later socket of the daemon would be made in the container's netns.
        log.error('cannot return to the daemon network namespace; aborting', { errno: c.koffi.errno() });
        process.abort();
      }
    }
    if (fd < 0) throw new SystemError(`netlink socket in the netns of process ${pid}: ${c.strerror(errno)}`);
    return fd;
  } finally {
    closeSync(target);
  }
}

/** Send one request and read its answer: the first reply with its sequence number. */
function transact(c: Calls, fd: number, seq: number, req: Buffer, buf: Buffer): ReturnType<typeof parseReplies>[number] {
  if ((c.send(fd, req, req.length, 0) as number) !== req.length) throw new SystemError(`netlink send: ${c.strerror(c.koffi.errno())}`);
  for (;;) {
    const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT) as number;
    if (n < 0) {
      const errno = c.koffi.errno();
      throw new SystemError(errno === EAGAIN ? 'netlink: no answer from the kernel' : `netlink recv: ${c.strerror(errno)}`);
    }
    const reply = parseReplies(buf.subarray(0, n)).find((r) => r.seq === seq);
    if (reply) return reply;
  }
}

/**
 * Apply `ops` in order inside the netns of `pid`'s process. Returns false when koffi is not
 * available (the caller runs the iproute2 batch instead); throws with iproute2's wording when the
 * kernel refuses a change.
 */
export async function configureNetnsViaNetlink(pid: number, ops: readonly NetnsOp[]): Promise<boolean> {
  calls ??= bind().catch((err: unknown) => {
    log.warn('netlink configuration unavailable; using ip', { error: err });
    return undefined;
  });
  const c = await calls;
  if (!c) return false;
  const fd = socketInNetns(c, pid);
  try {
    const buf = Buffer.alloc(32 * 1024);
    const indexes = new Map<string, number>();
    let seq = 0;
    const fail = (what: string, errno: number): never => {
      throw new SystemError(`ip: ${what}: RTNETLINK answers: ${c.strerror(errno)}`);
    };
    const indexOf = (dev: string): number => {
      const known = indexes.get(dev);
      if (known !== undefined) return known;
      const r = transact(c, fd, ++seq, getLinkRequest(seq, dev), buf);
      if (r.type === NLMSG_ERROR && r.errno === ENODEV) throw new SystemError(`ip: Cannot find device "${dev}"`);
      if (r.type === NLMSG_ERROR) fail(`device ${dev}`, r.errno ?? 0);
      if (r.type !== RTM_NEWLINK || !r.index) throw new SystemError(`ip: device ${dev}: unexpected netlink answer ${r.type}`);
      indexes.set(dev, r.index);
      return r.index;
    };
    for (const o of ops) {
      const index = indexOf(o.dev);
      const req = o.op === 'addr' ? addAddressRequest(++seq, index, o.cidr, { nodad: o.nodad }) : o.op === 'up' ? linkUpRequest(++seq, index) : addDefaultRouteRequest(++seq, index, o.gateway);
      const r = transact(c, fd, seq, req, buf);
      if (r.type !== NLMSG_ERROR) throw new SystemError(`ip: ${ipLines([o])[0]}: unexpected netlink answer ${r.type}`);
      if (r.errno) fail(ipLines([o])[0]!, r.errno);
    }
  } finally {
    closeSync(fd);
  }
  return true;
}
