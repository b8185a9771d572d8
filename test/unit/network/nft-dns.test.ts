import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { renderTable } from '../../../src/network/nft.ts';
import { EmbeddedDns } from '../../../src/network/dns/server.ts';
import { wantedPorts } from '../../../src/network/portmap/ports.ts';

test('nft: one table, replaced whole; DNAT per published port; isolation and internal rules', () => {
  const text = renderTable('bttest', [
    { bridge: 'b0', subnets4: ['10.0.0.0/24'], subnets6: [], internal: false, masquerade: true },
    { bridge: 'b1', subnets4: ['10.0.1.0/24'], subnets6: [], internal: true, masquerade: true },
  ], [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 8080, ipv4: '10.0.0.2' }, { proto: 'udp', containerPort: 53, hostIp: '', hostPort: 5353, ipv4: '10.0.0.3' }]);
  assert.match(text, /^table inet bttest \{\}\ndelete table inet bttest\ntable inet bttest \{/);
  assert.match(text, /ip daddr 127\.0\.0\.1 tcp dport 8080 dnat ip to 10\.0\.0\.2:80/);
  assert.match(text, /meta nfproto ipv4 udp dport 5353 dnat ip to 10\.0\.0\.3:53/);
  assert.match(text, /ip saddr 10\.0\.0\.0\/24 oifname != "b0" masquerade/);
  assert.doesNotMatch(text, /ip saddr 10\.0\.1\.0\/24 oifname != "b1" masquerade/, 'internal networks are not masqueraded');
  assert.match(text, /iifname "b0" oifname @bridges oifname != "b0" drop/);
  assert.match(text, /iifname "b1" oifname != "b1" drop/);
  assert.doesNotMatch(text, /iifname @bridges oifname != @bridges drop/);
  assert.match(renderTable('t', [{ bridge: 'b0', subnets4: [], subnets6: [], internal: false, masquerade: true }], [], { egress: false }), /iifname @bridges oifname != @bridges drop/, '--no-egress');
});

test('ports: PortBindings and -P into mappings; bad specs refused', () => {
  assert.deepEqual(wantedPorts({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostIp: '', HostPort: '5353' }] }, { '81/tcp': {} }, true), [
    { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 0 },
    { proto: 'udp', containerPort: 53, hostIp: '', hostPort: 5353 },
    { proto: 'tcp', containerPort: 81, hostIp: '', hostPort: 0 },
  ]);
  assert.equal(wantedPorts({ '8000-8001/tcp': [{ HostPort: '9000-9001' }] }, null, false).map((m) => m.hostPort).join(','), '9000,9001');
  assert.throws(() => wantedPorts({ '80/tcp': [{ HostIp: 'nope', HostPort: '1' }] }, null, false), /invalid IP address/);
  assert.throws(() => wantedPorts({ 'x/tcp': [] }, null, false), /invalid port specification/);
});

async function ask(port: number, name: string, type: 'A' | 'AAAA' | 'PTR'): Promise<dnsPacket.DecodedPacket> {
  const s = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no answer')), 3000);
      s.on('message', (m) => {
        clearTimeout(t);
        resolve(dnsPacket.decode(m));
      });
      s.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

test('embedded DNS: A, NODATA for the other family, PTR, round robin, NXDOMAIN without upstreams', async () => {
  const dns = new EmbeddedDns({
    lookup: (_client, name, family) => (name === 'web' ? (family === 4 ? ['10.0.0.2', '10.0.0.3'] : []) : undefined),
    reverse: (_client, ip) => (ip === '10.0.0.2' ? 'web.net' : undefined),
    upstreams: () => [],
  });
  const port = await dns.listen('127.0.0.1', 0);
  try {
    const a = await ask(port, 'web', 'A');
    assert.equal(a.id, 7);
    assert.deepEqual((a.answers ?? []).map((x) => (x as { data: string }).data).sort(), ['10.0.0.2', '10.0.0.3']);
    const aaaa = await ask(port, 'web', 'AAAA');
    assert.equal(aaaa.answers?.length, 0);
    assert.equal((aaaa.flags ?? 0) & 15, 0, 'NOERROR');
    const ptr = await ask(port, '2.0.0.10.in-addr.arpa', 'PTR');
    assert.equal((ptr.answers?.[0] as { data: string }).data, 'web.net');
    const none = await ask(port, 'nothere', 'A');
    assert.equal((none.flags ?? 0) & 15, 3, 'NXDOMAIN');
    const firsts = new Set<string>();
    for (let i = 0; i < 20; i++) firsts.add(((await ask(port, 'web', 'A')).answers?.[0] as { data: string }).data);
    assert.equal(firsts.size, 2, 'round robin');
  } finally {
    dns.closeAll();
  }
});
