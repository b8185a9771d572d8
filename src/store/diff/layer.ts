import { Readable } from 'node:stream';
import { openRootDir } from '../../lib/scopedfs.ts';
import { coalesce, tarTree } from './tartree.ts';

export interface LayerTarOptions {
  /**
   * Reproducible builds: clamp every modification time to this many seconds since the epoch
   * (the SOURCE_DATE_EPOCH convention; BuildKit's rewrite-timestamp does the same).
   */
  sourceDateEpoch?: number;
}

export interface LayerTar {
  /** The uncompressed layer tar (its sha256 is the layer's diff ID). */
  stream: Readable;
  /** Resolves when the stream has ended: how many entries it held (0: an empty layer). */
  done: Promise<{ entries: number }>;
}

/**
 * The OCI layer tar of an overlay upper dir (an active snapshot's `Snapshotter.upperDir`):
 * overlay whiteouts (char device 0:0) become `.wh.<name>` files, opaque directories
 * (`trusted.overlay.opaque=y`) get a `.wh..wh..opq` entry, hardlinks, xattrs (except overlay's own
 * `trusted.overlay.*`), modes and ownership are kept, entries come in byte order of their names.
 * The same tree always gives the same bytes (with `sourceDateEpoch`, independently of when its
 * files were written). Safe against a container changing the tree meanwhile: every file is opened
 * relative to a directory handle, so planted symlinks are archived, never followed. For a stable
 * layer, the container should be stopped or paused while the stream is read.
 */
export function layerTar(upperDir: string, opts: LayerTarOptions = {}): LayerTar {
  let resolveDone!: (v: { entries: number }) => void;
  let rejectDone!: (err: unknown) => void;
  const done = new Promise<{ entries: number }>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => undefined); // the stream reports the same error
  async function* generate(): AsyncGenerator<Buffer> {
    const root = await openRootDir(upperDir);
    try {
      const tarOpts = opts.sourceDateEpoch !== undefined ? { overlayWhiteouts: true, clampMtime: opts.sourceDateEpoch } : { overlayWhiteouts: true };
      yield* coalesce(tarTree(root, '', '', tarOpts, (entries) => resolveDone({ entries })));
    } catch (err) {
      rejectDone(err);
      throw err;
    } finally {
      rejectDone(new Error('layer stream closed before its end')); // no-op after resolve
      await root.close();
    }
  }
  return { stream: Readable.from(generate(), { objectMode: false }), done };
}
