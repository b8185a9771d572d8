import { execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

// The busybox rootfs fixture, laid out like scripts/busybox-image.sh builds it: Debian's static
// busybox at /bin/busybox, one symlink per applet in /bin, minimal /etc, and mount-point dirs.

const BUSYBOX = '/bin/busybox';
const MTIME = new Date('2024-01-01T00:00:00Z'); // fixed, so the tar (and its diff ID) is reproducible

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

/** Applet names of the host's busybox (`busybox --list`), without `busybox` itself. */
export function busyboxApplets(): string[] {
  return execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'busybox' && !s.includes('/'));
}

/** Write an uncompressed busybox rootfs tar to `path`; returns `path`. `extra` adds entries to it. */
export async function makeBusyboxRootfsTar(path: string, extra?: (pack: tar.Pack) => void): Promise<string> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(path));
  const dir = (name: string, mode = 0o755): void => {
    pack.entry({ name: name + '/', type: 'directory', mode, uid: 0, gid: 0, mtime: MTIME });
  };
  const file = (name: string, data: string | Buffer, mode = 0o644): void => {
    pack.entry({ name, type: 'file', mode, uid: 0, gid: 0, mtime: MTIME }, data);
  };
  for (const d of ['bin', 'dev', 'etc', 'home', 'proc', 'sys', 'usr', 'var']) dir(d);
  dir('root', 0o700);
  dir('tmp', 0o1777);
  file('bin/busybox', readFileSync(BUSYBOX), 0o755);
  for (const applet of busyboxApplets()) {
    pack.entry({ name: `bin/${applet}`, type: 'symlink', linkname: 'busybox', mode: 0o777, uid: 0, gid: 0, mtime: MTIME });
  }
  file('etc/passwd', PASSWD);
  file('etc/group', GROUP);
  file('etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  file('etc/hostname', 'busybox\n');
  file('etc/resolv.conf', '');
  extra?.(pack);
  pack.finalize();
  await done;
  return path;
}
