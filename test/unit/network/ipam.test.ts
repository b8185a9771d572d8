import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, formatPrefix, overlaps, parseIp, parsePrefix } from '../../../src/network/ipam/cidr.ts';
import { Ipam } from '../../../src/network/ipam/ipam.ts';
import { parsePools } from '../../../src/network/ipam/pools.ts';

const v4 = (s: string): bigint => parseIp(s)!.value;

test('cidr: parse and format IPv4 and IPv6', () => {
  assert.equal(formatIp(4, v4('10.1.2.3')), '10.1.2.3');
  assert.equal(parseIp('256.1.1.1'), undefined);
  for (const s of ['::1', 'fd00::2', '2001:db8::33', 'fe80::fc:ff:fe00:1', '::', '1:2:3:4:5:6:7:8']) assert.equal(formatIp(6, parseIp(s)!.value), s);
  assert.equal(formatIp(6, parseIp('2001:db8:0:0:1:0:0:1')!.value), '2001:db8::1:0:0:1');
  assert.equal(formatPrefix(parsePrefix('10.1.2.3/24')), '10.1.2.0/24');
  assert.throws(() => parsePrefix('10.1.2.3/24', { strict: true }), /should be 10\.1\.2\.0\/24/);
  assert.ok(overlaps(parsePrefix('10.0.0.0/8'), parsePrefix('10.9.0.0/16')));
  assert.ok(!overlaps(parsePrefix('10.0.0.0/24'), parsePrefix('10.0.1.0/24')));
});

test('ipam: sequential allocation skips network, gateway and broadcast; no immediate reuse', () => {
  const ipam = new Ipam([]);
  const subnet = parsePrefix('10.5.0.0/29');
  ipam.addNetwork('n', [{ subnet, range: subnet, gateway: v4('10.5.0.1') }]);
  const got = [1, 2, 3, 4, 5].map(() => formatIp(4, ipam.allocate('n', 4)!));
  assert.deepEqual(got, ['10.5.0.2', '10.5.0.3', '10.5.0.4', '10.5.0.5', '10.5.0.6']);
  assert.throws(() => ipam.allocate('n', 4), /no available IPv4 addresses/);
  ipam.release('n', 4, v4('10.5.0.3'));
  assert.equal(formatIp(4, ipam.allocate('n', 4)!), '10.5.0.3');
  ipam.release('n', 4, v4('10.5.0.4'));
  ipam.release('n', 4, v4('10.5.0.2'));
  // The cursor moved past .3: .4 comes before .2 again.
  assert.equal(formatIp(4, ipam.allocate('n', 4)!), '10.5.0.4');
  assert.throws(() => ipam.allocate('n', 4, v4('10.5.0.5')), /already in use/);
  assert.throws(() => ipam.allocate('n', 4, v4('10.6.0.5')), /no configured subnet/);
});

test('ipam: claim rebuilds from records; subnets from pools avoid networks and host routes', () => {
  const ipam = new Ipam(parsePools(['base=10.20.0.0/22,size=24']));
  const first = ipam.allocateSubnet(4, [parsePrefix('10.20.0.0/25')]);
  assert.equal(formatPrefix(first), '10.20.1.0/24');
  ipam.addNetwork('a', [{ subnet: first, range: first, gateway: v4('10.20.1.1') }]);
  assert.equal(formatPrefix(ipam.allocateSubnet(4, [])), '10.20.0.0/24');
  assert.throws(() => ipam.addNetwork('b', [{ subnet: parsePrefix('10.20.1.128/25'), range: parsePrefix('10.20.1.128/25') }]), /overlaps/);
  ipam.claim('a', 4, v4('10.20.1.2'));
  assert.ok(ipam.inUse('a', 4, v4('10.20.1.2')));
  assert.equal(formatIp(4, ipam.allocate('a', 4)!), '10.20.1.3');
  const r = parsePrefix('10.20.1.64/30');
  ipam.addNetwork('a', [{ subnet: first, range: r, gateway: v4('10.20.1.1') }]);
  assert.deepEqual([ipam.allocate('a', 4), ipam.allocate('a', 4), ipam.allocate('a', 4), ipam.allocate('a', 4)].map((x) => formatIp(4, x!)), ['10.20.1.64', '10.20.1.65', '10.20.1.66', '10.20.1.67']);
  assert.throws(() => parsePools(['base=10.0.0.0/16']), /base=CIDR,size=N/);
});
