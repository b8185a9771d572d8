import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';

export type Compression = 'none' | 'gzip' | 'zstd';

/** Recognise a compressed stream by its magic bytes (what dockerd's DecompressStream does). */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/**
 * The uncompressed bytes of `src`, whether it is plain, gzip or zstd. Errors of the source or the
 * decompressor surface on the returned stream.
 */
export function decompressStream(src: Readable): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  void (async () => {
    const it = (src as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    // Gather at least 4 bytes (a chunked body may deliver fewer in its first chunk).
    const head: Buffer[] = [];
    let headLen = 0;
    let done = false;
    while (headLen < 4) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      head.push(b);
      headLen += b.length;
    }
    const first = Buffer.concat(head);
    const kind = detectCompression(first);
    async function* rest(): AsyncGenerator<Buffer> {
      if (first.length > 0) yield first;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      }
    }
    if (kind === 'none') await pipeline(rest(), out);
    else await pipeline(rest(), kind === 'gzip' ? createGunzip() : createZstdDecompress(), out);
  })().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}
