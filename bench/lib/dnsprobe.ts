// Run inside a container's netns (nsenter --net=/proc/<pid>/ns/net node dnsprobe.ts SERVER NAME N):
// N sequential A queries for NAME to SERVER:53, one UDP socket; prints the latencies (ms) as JSON.
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';

const [server, name, countText] = process.argv.slice(2);
const count = Number(countText ?? '1000');
const sock = dgram.createSocket('udp4');
const out: number[] = [];
let id = 0;
let t0 = 0;
let timer: NodeJS.Timeout | undefined;

function next(): void {
  if (out.length >= count) {
    sock.close();
    process.stdout.write(JSON.stringify(out));
    return;
  }
  id = (id + 1) & 0xffff;
  t0 = performance.now();
  timer = setTimeout(() => {
    process.stderr.write('timeout\n');
    process.exit(1);
  }, 2000);
  sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), 53, server);
}

sock.on('message', (m) => {
  const p = dnsPacket.decode(m);
  if (p.id !== id) return;
  clearTimeout(timer);
  if (!p.answers?.length) {
    process.stderr.write(`no answer for ${name}\n`);
    process.exit(1);
  }
  out.push(performance.now() - t0);
  next();
});
sock.bind(0, () => next());
