// A TCP throughput probe, run inside a netns (nsenter --net=... node tcpprobe.ts ...):
//   server PORT         — accept connections, read everything, answer "ok" at the end
//   client HOST PORT MB — send MB MiB, wait for the "ok"; prints MB/s (MiB sent / seconds)
import net from 'node:net';

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'server') {
  net.createServer({ allowHalfOpen: true }, (sock) => {
    sock.on('data', () => undefined);
    sock.on('end', () => sock.end('ok'));
  }).listen(Number(a), () => process.stdout.write('listening\n'));
} else {
  const total = Number(c) * 1024 * 1024;
  const chunk = Buffer.alloc(256 * 1024);
  const sock = net.connect({ host: a, port: Number(b), allowHalfOpen: true });
  let t0 = 0;
  sock.on('connect', () => {
    t0 = performance.now();
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
      sock.end();
    };
    pump();
  });
  sock.on('data', () => {
    const secs = (performance.now() - t0) / 1000;
    process.stdout.write(String(total / 1024 / 1024 / secs));
    sock.destroy();
  });
  sock.on('error', (e) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
