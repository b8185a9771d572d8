import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addAddressRequest, addDefaultRouteRequest, addressBytes, getLinkRequest, linkUpRequest, parseReplies } from '../../../src/os/net/rtnetlink.ts';

/** The attributes after a family header of `headerLen` bytes: type → payload. */
function attrs(msg: Buffer, headerLen: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 16 + headerLen;
  while (off + 4 <= msg.length) {
    const len = msg.readUInt16LE(off);
    out.set(msg.readUInt16LE(off + 2), msg.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

test('addressBytes: IPv4, IPv6 with ::, IPv4 tails; anything else is refused', () => {
  const hex = (a: string): string => addressBytes(a).bytes.toString('hex');
  assert.equal(hex('10.1.2.3'), '0a010203');
  assert.equal(addressBytes('10.1.2.3').family, 4);
  assert.equal(hex('fd00::2'), 'fd000000000000000000000000000002');
  assert.equal(hex('::'), '0'.repeat(32));
  assert.equal(hex('1::'), '0001' + '0'.repeat(28));
  assert.equal(hex('2001:db8:0:0:1:0:0:1'), '20010db8000000000001000000000001');
  assert.equal(hex('::ffff:1.2.3.4'), '00000000000000000000ffff01020304');
  assert.equal(hex('64:ff9b::10.0.0.1'), '0064ff9b00000000000000000a000001');
  assert.equal(addressBytes('fe80::1').family, 6);
  for (const bad of ['', '10.1.2', '1.2.3.256', 'fd00:::1', 'eth0']) assert.throws(() => addressBytes(bad), /not an IP address/);
});

test('requests carry the header, flags and attributes iproute2 sends', () => {
  const link = getLinkRequest(7, 'eth0');
  assert.equal(link.readUInt32LE(0), link.length);
  assert.deepEqual([link.readUInt16LE(4), link.readUInt16LE(6), link.readUInt32LE(8)], [18, 0x1, 7]); // RTM_GETLINK, REQUEST
  assert.equal(attrs(link, 16).get(3)?.toString(), 'eth0\0'); // IFLA_IFNAME

  const up = linkUpRequest(8, 5);
  assert.deepEqual([up.readUInt16LE(4), up.readUInt16LE(6)], [16, 0x5]); // RTM_NEWLINK, REQUEST|ACK
  assert.deepEqual([up.readInt32LE(16 + 4), up.readUInt32LE(16 + 8), up.readUInt32LE(16 + 12)], [5, 1, 1]); // index, IFF_UP set and changed

  const a4 = addAddressRequest(9, 5, '172.18.0.2/16');
  assert.deepEqual([a4.readUInt16LE(4), a4.readUInt16LE(6)], [20, 0x605]); // RTM_NEWADDR, REQUEST|ACK|CREATE|EXCL
  assert.deepEqual([...a4.subarray(16, 20)], [2, 16, 0, 0]); // AF_INET, /16, no flags, universe
  assert.equal(a4.readUInt32LE(20), 5);
  const a4attrs = attrs(a4, 8);
  assert.equal(a4attrs.get(2)?.toString('hex'), 'ac120002'); // IFA_LOCAL
  assert.equal(a4attrs.get(1)?.toString('hex'), 'ac120002'); // IFA_ADDRESS
  const a6 = addAddressRequest(10, 5, 'fd00::2/64', { nodad: true });
  assert.deepEqual([...a6.subarray(16, 20)], [10, 64, 0x02, 0]); // AF_INET6, /64, IFA_F_NODAD
  assert.equal(addAddressRequest(1, 1, '127.0.0.2/8')[19], 254); // host scope, as iproute2
  assert.equal(addAddressRequest(1, 1, 'fe80::9/64')[19], 0); // IPv6: the kernel sets the scope
  assert.throws(() => addAddressRequest(1, 1, '10.0.0.1'), /prefix length/);
  assert.throws(() => addAddressRequest(1, 1, '10.0.0.1/33'), /prefix length/);

  const r = addDefaultRouteRequest(11, 5, '172.18.0.1');
  assert.deepEqual([r.readUInt16LE(4), r.readUInt16LE(6)], [24, 0x605]); // RTM_NEWROUTE
  assert.deepEqual([...r.subarray(16, 24)], [2, 0, 0, 0, 254, 3, 0, 1]); // AF_INET, default, main table, proto boot, universe, unicast
  const rattrs = attrs(r, 12);
  assert.equal(rattrs.get(5)?.toString('hex'), 'ac120001'); // RTA_GATEWAY
  assert.equal(rattrs.get(4)?.readUInt32LE(0), 5); // RTA_OIF
  assert.equal(addDefaultRouteRequest(1, 1, 'fd00::1')[16], 10);
});

test('parseReplies: ACKs, errors and link answers, several to a datagram', () => {
  const ack = Buffer.alloc(36);
  ack.writeUInt32LE(36, 0);
  ack.writeUInt16LE(2, 4); // NLMSG_ERROR
  ack.writeUInt32LE(3, 8);
  const err = Buffer.from(ack);
  err.writeUInt32LE(4, 8);
  err.writeInt32LE(-17, 16); // -EEXIST
  const link = Buffer.alloc(32);
  link.writeUInt32LE(32, 0);
  link.writeUInt16LE(16, 4); // RTM_NEWLINK
  link.writeUInt32LE(5, 8);
  link.writeInt32LE(42, 20); // ifi_index
  assert.deepEqual(parseReplies(Buffer.concat([ack, err, link])), [
    { type: 2, seq: 3, errno: 0 },
    { type: 2, seq: 4, errno: 17 },
    { type: 16, seq: 5, index: 42 },
  ]);
  assert.deepEqual(parseReplies(ack.subarray(0, 10)), []); // truncated: nothing
});
