import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';

// Sending a blob's bytes (or a range of them) on a response with reused buffers. A file read
// stream allocates a fresh buffer per read: at the sizes that make loopback fast (1 MiB), every
// read is a new mapping to fault in, and hundreds of MB of short-lived external memory drive V8
// into repeated full collections. Here two 1 MiB buffers per request alternate (taken from a
// small pool shared by the server): one is read into while the other is on its way out, and a
// buffer is reused only after the socket took it (the write callback).

const CHUNK = 1 << 20;
const POOL_MAX = 16;
const pool: Buffer[] = [];

const take = (): Buffer => pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
const give = (b: Buffer): void => {
  if (pool.length < POOL_MAX) pool.push(b);
};

/** Write `path`'s bytes `start..end` (inclusive; the whole file by default) to `out`, without ending it. */
export async function sendFileRange(out: Writable, path: string, range?: { start: number; end: number }): Promise<void> {
  const fh = await open(path, 'r');
  const bufs = [take(), take()];
  // The write in flight for each buffer (settled: free to refill).
  const writing: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
  try {
    let pos = range?.start ?? 0;
    const end = range ? range.end + 1 : (await fh.stat()).size;
    for (let i = 0; pos < end; i ^= 1) {
      await writing[i];
      if (out.destroyed) throw new Error('response closed');
      const buf = bufs[i];
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) throw new Error(`${path}: file ended at ${pos}, expected ${end} bytes`);
      pos += bytesRead;
      writing[i] = new Promise<void>((resolve, reject) => {
        out.write(buf.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve()));
      });
      writing[i].catch(() => undefined); // observed when the buffer comes round again, or below
    }
    await Promise.all(writing);
  } finally {
    await fh.close();
    // A buffer whose write did not finish may still be referenced by the stream: not reused.
    await Promise.allSettled(writing).then((rs) => rs.forEach((r, i) => r.status === 'fulfilled' && give(bufs[i])));
  }
}
