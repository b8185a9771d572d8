import { NotFound } from '../../lib/errors.ts';
import type { ImageConfig } from '../../types/oci.ts';
import type { MetaDb } from '../meta/db.ts';
import { formatReference, parseNormalizedNamed, withDefaultTag } from './reference.ts';
import type { ImageRecord, ImageResolver } from './types.ts';

export interface ImageStoreOptions {
  db: MetaDb;
}

interface ImageRow {
  id: string;
  manifest_digest: string | null;
  config: string;
  chain_id: string;
  size: number;
  parent: string;
  created: number;
  last_tag_time: number;
}

/** What a lookup matched: a reference (`busybox:latest`) or an image ID (full or prefix). */
export interface ImageLookup {
  image: ImageRecord;
  /** The normalized reference that matched, when the argument was a reference. */
  matchedRef?: string;
}

/** An image row to insert; refs and lastTagTime are handled by `put`. */
export type NewImage = Omit<ImageRecord, 'refs' | 'lastTagTime'>;

const HEX_PREFIX_RE = /^(?:sha256:)?[a-f0-9]{1,64}$/;

/**
 * Image records in the `images` and `image_refs` tables. IDs are config digests. Every mutation is
 * one transaction; the blobs and snapshots a record points to must exist before it is written.
 */
export class ImageStore implements ImageResolver {
  private readonly db: MetaDb;

  constructor(opts: ImageStoreOptions) {
    this.db = opts.db;
  }

  private toRecord(row: ImageRow): ImageRecord {
    const rec: ImageRecord = {
      id: row.id,
      config: JSON.parse(row.config) as ImageConfig,
      chainId: row.chain_id,
      size: row.size,
      parent: row.parent,
      created: row.created,
      lastTagTime: row.last_tag_time,
      refs: this.refsOf(row.id),
    };
    if (row.manifest_digest) rec.manifestDigest = row.manifest_digest;
    return rec;
  }

  get(id: string): ImageRecord | undefined {
    const row = this.db.get<ImageRow>('SELECT * FROM images WHERE id = ?', id);
    return row ? this.toRecord(row) : undefined;
  }

  /** Whether an image record exists (without reading it). */
  has(id: string): boolean {
    return this.db.get('SELECT 1 AS x FROM images WHERE id = ?', id) !== undefined;
  }

  /** Normalized references of an image, sorted. */
  refsOf(id: string): string[] {
    return this.db.all<{ ref: string }>('SELECT ref FROM image_refs WHERE image_id = ? ORDER BY ref', id).map((r) => r.ref);
  }

  list(): ImageRecord[] {
    return this.db.all<ImageRow>('SELECT * FROM images ORDER BY created DESC, id').map((r) => this.toRecord(r));
  }

  /** The image a normalized reference points to. */
  byRef(ref: string): ImageRecord | undefined {
    const row = this.db.get<{ image_id: string }>('SELECT image_id FROM image_refs WHERE ref = ?', ref);
    return row ? this.get(row.image_id) : undefined;
  }

  async resolve(ref: string): Promise<ImageRecord> {
    return this.lookup(ref).image;
  }

  /**
   * Resolve what the user typed, in dockerd's order: a reference (with `:latest` implied), then a
   * full `sha256:` ID, then a unique ID prefix. Throws NotFound `No such image: <ref>`, or
   * InvalidParameter for a malformed reference that cannot be an ID either.
   */
  lookup(ref: string): ImageLookup {
    let parseError: unknown;
    try {
      const normalized = formatReference(withDefaultTag(parseNormalizedNamed(ref)));
      const image = this.byRef(normalized);
      if (image) return { image, matchedRef: normalized };
    } catch (err) {
      parseError = err;
    }
    if (HEX_PREFIX_RE.test(ref)) {
      const hex = ref.startsWith('sha256:') ? ref.slice(7) : ref;
      const rows = this.db.all<{ id: string }>("SELECT id FROM images WHERE substr(id, 8, ?) = ? LIMIT 2", hex.length, hex);
      if (rows.length === 1) return { image: this.get(rows[0].id)! };
    }
    // A 64-hex string parses as neither a name nor (here) an existing ID: that is "not found".
    if (parseError !== undefined && !/^(?:sha256:)?[a-f0-9]{64}$/.test(ref)) throw parseError;
    throw new NotFound(`No such image: ${ref}`);
  }

  /** Insert an image (if new) and point `refs` at it, in one transaction. */
  put(image: NewImage, refs: readonly string[] = [], now = Date.now()): ImageRecord {
    this.db.tx(() => {
      this.db.run(
        `INSERT INTO images (id, manifest_digest, config, chain_id, size, parent, created, last_tag_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT(id) DO NOTHING`,
        image.id,
        image.manifestDigest ?? null,
        JSON.stringify(image.config),
        image.chainId,
        image.size,
        image.parent,
        image.created,
      );
      for (const ref of refs) this.setRef(ref, image.id, now);
    });
    return this.get(image.id)!;
  }

  /**
   * Point a normalized reference at an image. Returns the image it pointed to before, if any
   * other (that image may now be dangling).
   */
  tag(id: string, ref: string, now = Date.now()): string | undefined {
    return this.db.tx(() => {
      if (!this.db.get('SELECT 1 FROM images WHERE id = ?', id)) throw new NotFound(`No such image: ${id}`);
      return this.setRef(ref, id, now);
    });
  }

  private setRef(ref: string, id: string, now: number): string | undefined {
    const prev = this.db.get<{ image_id: string }>('SELECT image_id FROM image_refs WHERE ref = ?', ref);
    if (prev?.image_id === id) {
      this.db.run('UPDATE images SET last_tag_time = ? WHERE id = ?', now, id);
      return undefined;
    }
    this.db.run('INSERT INTO image_refs (ref, image_id, created) VALUES (?, ?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id, created = excluded.created', ref, id, now);
    this.db.run('UPDATE images SET last_tag_time = ? WHERE id = ?', now, id);
    return prev?.image_id;
  }

  /** Remove a normalized reference. Returns the image ID it pointed to. Throws NotFound. */
  untag(ref: string): string {
    return this.db.tx(() => {
      const row = this.db.get<{ image_id: string }>('SELECT image_id FROM image_refs WHERE ref = ?', ref);
      if (!row) throw new NotFound(`No such image: ${ref}`);
      this.db.run('DELETE FROM image_refs WHERE ref = ?', ref);
      return row.image_id;
    });
  }

  /** Delete an image record and all references to it. Returns the references removed. */
  delete(id: string): string[] {
    return this.db.tx(() => {
      const refs = this.refsOf(id);
      this.db.run('DELETE FROM image_refs WHERE image_id = ?', id);
      const { changes } = this.db.run('DELETE FROM images WHERE id = ?', id);
      if (Number(changes) === 0) throw new NotFound(`No such image: ${id}`);
      return refs;
    });
  }

  /** Images whose `parent` is `id` (built or committed on top of it). */
  children(id: string): string[] {
    return this.db.all<{ id: string }>('SELECT id FROM images WHERE parent = ?', id).map((r) => r.id);
  }
}
