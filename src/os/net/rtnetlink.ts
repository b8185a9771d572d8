// The few rtnetlink messages berthd sends itself (rtnetlink(7)): the same requests iproute2 makes
// for `ip addr add`, `ip link set … up` and `ip route add default via …`, and the parsing of the
// kernel's answers. Pure encoding, no I/O: netns-config.ts owns the socket.
import { parseIp, type Family } from '../../lib/ip.ts';

const NLMSG_HDRLEN = 16;
export const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

export const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
const IFF_UP = 0x1;
const IFLA_IFNAME = 3;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_F_NODAD = 0x02;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_HOST = 254;
const RTN_UNICAST = 1;

const align4 = (n: number): number => (n + 3) & ~3;

/** One attribute (struct rtattr + payload, padded to 4 bytes). */
function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

/** A message: struct nlmsghdr, the family header, then the attributes. */
function message(type: number, flags: number, seq: number, header: Buffer, attrs: Buffer[]): Buffer {
  const body = Buffer.concat([header, ...attrs]);
  const out = Buffer.alloc(NLMSG_HDRLEN + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(flags, 6);
  out.writeUInt32LE(seq >>> 0, 8);
  out.writeUInt32LE(0, 12); // to the kernel
  body.copy(out, NLMSG_HDRLEN);
  return out;
}

/** struct ifinfomsg. */
function ifinfomsg(index: number, flags: number, change: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

/** An address in network byte order, for IFA_* and RTA_* payloads. */
export function addressBytes(text: string): { family: Family; bytes: Buffer } {
  const ip = parseIp(text);
  if (!ip) throw new Error(`not an IP address: ${text}`);
  const bytes = Buffer.alloc(ip.family === 4 ? 4 : 16);
  let v = ip.value;
  for (let i = bytes.length - 1; i >= 0; i--, v >>= 8n) bytes[i] = Number(v & 0xffn);
  return { family: ip.family, bytes };
}

/** `ip link show dev NAME` as a request: the answer (RTM_NEWLINK) carries the interface index. */
export function getLinkRequest(seq: number, name: string): Buffer {
  return message(RTM_GETLINK, NLM_F_REQUEST, seq, ifinfomsg(0, 0, 0), [attr(IFLA_IFNAME, Buffer.from(`${name}\0`))]);
}

/** `ip link set dev … up`. */
export function linkUpRequest(seq: number, index: number): Buffer {
  return message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifinfomsg(index, IFF_UP, IFF_UP), []);
}

/**
 * `ip addr add ADDR/LEN dev … [nodad]`: IFA_LOCAL and IFA_ADDRESS both the address (no peer), no
 * broadcast, and iproute2's default scope: host for IPv4 127/8, else universe (for IPv6 the kernel
 * works the scope out itself).
 */
export function addAddressRequest(seq: number, index: number, cidr: string, opts: { nodad?: boolean } = {}): Buffer {
  const slash = cidr.indexOf('/');
  if (slash < 0) throw new Error(`not an address with a prefix length: ${cidr}`);
  const { family, bytes } = addressBytes(cidr.slice(0, slash));
  const bits = Number(cidr.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) throw new Error(`bad prefix length: ${cidr}`);
  const scope = family === 4 && bytes[0] === 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
  const h = Buffer.alloc(8);
  h.writeUInt8(family === 4 ? AF_INET : AF_INET6, 0);
  h.writeUInt8(bits, 1);
  h.writeUInt8(opts.nodad ? IFA_F_NODAD : 0, 2);
  h.writeUInt8(scope, 3);
  h.writeUInt32LE(index, 4);
  return message(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, h, [attr(IFA_LOCAL, bytes), attr(IFA_ADDRESS, bytes)]);
}

/** `ip route add default via GATEWAY dev …` (main table, proto boot, as iproute2 sends it). */
export function addDefaultRouteRequest(seq: number, index: number, gateway: string): Buffer {
  const { family, bytes } = addressBytes(gateway);
  const h = Buffer.alloc(12);
  h.writeUInt8(family === 4 ? AF_INET : AF_INET6, 0); // rtm_family; dst_len, src_len, tos 0
  h.writeUInt8(RT_TABLE_MAIN, 4);
  h.writeUInt8(RTPROT_BOOT, 5);
  h.writeUInt8(RT_SCOPE_UNIVERSE, 6);
  h.writeUInt8(RTN_UNICAST, 7);
  return message(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, h, [attr(RTA_GATEWAY, bytes), attr(RTA_OIF, u32(index))]);
}

/** One message of a datagram the kernel sent. */
export interface NetlinkReply {
  type: number;
  seq: number;
  /** For NLMSG_ERROR: 0 (an ACK) or the positive errno. */
  errno?: number;
  /** For RTM_NEWLINK: ifinfomsg.ifi_index. */
  index?: number;
}

/** Split a received datagram into its messages (only the fields berthd reads). */
export function parseReplies(buf: Buffer): NetlinkReply[] {
  const out: NetlinkReply[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    const type = buf.readUInt16LE(off + 4);
    const seq = buf.readUInt32LE(off + 8);
    const reply: NetlinkReply = { type, seq };
    if (type === NLMSG_ERROR && len >= NLMSG_HDRLEN + 4) reply.errno = Math.abs(buf.readInt32LE(off + NLMSG_HDRLEN));
    if (type === RTM_NEWLINK && len >= NLMSG_HDRLEN + 16) reply.index = buf.readInt32LE(off + NLMSG_HDRLEN + 4);
    out.push(reply);
    off += align4(len);
  }
  return out;
}
