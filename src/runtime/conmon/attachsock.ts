// Connecting to conmon's attach socket (<dir>/attach, SOCK_SEQPACKET; node:net cannot open it).
import { constants, openSync, closeSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { join } from 'node:path';
// node-unix-socket (a native addon, ~4.5 MB resident) loads with the first -i attach or exec,
// not with the daemon
import type { SeqpacketSocket } from 'node-unix-socket';
import { NotFound, SystemError } from '../../lib/errors.ts';

// conmon and the runtime read attach packets into a fixed buffer; bigger SEQPACKET messages would
// be truncated, so stdin is sent in pieces no larger than this.
const STDIN_PACKET = 8192;
const O_PATH = 0o10000000; // not in fs.constants; Linux value

/** conmon's tags on packets it sends from the attach socket (its stdpipe_t). */
export const ATTACH_STDOUT = 2;
export const ATTACH_STDERR = 3;

export async function connectAttachSocket(dir: string, what: string): Promise<SeqpacketSocket> {
  const path = join(dir, 'attach');
  const { SeqpacketSocket: Socket } = await import('node-unix-socket');
  const sock = new Socket();
  let dirFd: number | undefined;
  let target = path;
  // sun_path holds 107 bytes; reach a longer path through an O_PATH fd of its directory.
  if (Buffer.byteLength(path) > 107) {
    dirFd = openSync(dir, O_PATH);
    target = `/proc/self/fd/${dirFd}/attach`;
  }
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      try {
        sock.connect(target, () => {
          sock.off('error', reject);
          resolve();
        });
      } catch (e) {
        reject(e);
      }
    });
  } catch (err) {
    sock.destroy();
    throw new NotFound(`attach socket of ${what}: ${(err as Error).message}`);
  } finally {
    if (dirFd !== undefined) closeSync(dirFd);
  }
  return sock;
}

/** A writable to the process's stdin over a connected attach socket; end() half-closes it. */
export function stdinWriter(sock: SeqpacketSocket): Writable {
  let ended = false;
  const w = new Writable({
    // end() half-closes; the socket may still carry the process's output (exec), so it is closed
    // only by an explicit destroy().
    autoDestroy: false,
    write(chunk: Buffer, _enc, cb) {
      if (ended) return cb(new SystemError('container stdin is closed'));
      for (let off = 0; off < chunk.length; off += STDIN_PACKET) {
        const piece = chunk.subarray(off, Math.min(off + STDIN_PACKET, chunk.length));
        if (off + STDIN_PACKET >= chunk.length) sock.write(piece, 0, piece.length, () => cb());
        else sock.write(piece);
      }
      if (!chunk.length) cb();
    },
    final(cb) {
      // Half-close: conmon reads EOF and (without --leave-stdin-open) closes the container's stdin.
      if (ended) return cb();
      sock.end(() => cb());
    },
    destroy(err, cb) {
      sock.destroy();
      cb(err);
    },
  });
  sock.on('end', () => {
    ended = true;
  });
  sock.on('error', (err: Error) => w.destroy(err));
  return w;
}

/** Resize the terminal through conmon's ctl FIFO in `dir` (`1 <height> <width>`). */
export async function writeResize(dir: string, what: string, height: number, width: number): Promise<void> {
  const ctl = join(dir, 'ctl');
  let fh;
  try {
    // O_NONBLOCK: fails with ENXIO instead of hanging when conmon is gone.
    fh = await openFile(ctl, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new NotFound(`resize ${what}: ${(err as Error).message}`);
  }
  try {
    await fh.write(`1 ${Math.trunc(height)} ${Math.trunc(width)}\n`);
  } finally {
    await fh.close();
  }
}
