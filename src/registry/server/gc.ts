// `berth registry gc`: mark every blob a manifest revision of any repository refers to (the
// manifests themselves, configs, layers, index children), then delete the rest. Run it while the
// registry is stopped or read-only, as with distribution's garbage-collect.
import { log } from '../../lib/logger.ts';
import { parseManifest } from '../manifest.ts';
import type { RegistryStorage } from './storage.ts';

export interface GcOptions {
  /** Also delete manifests no tag reaches (directly or through an index). */
  deleteUntagged?: boolean;
  dryRun?: boolean;
  /** Upload sessions idle longer than this are removed (default 24 h). */
  uploadMaxAgeMs?: number;
}

export interface GcResult {
  marked: number;
  deleted: string[];
  deletedManifests: string[];
  deletedUploads: number;
}

export async function garbageCollect(storage: RegistryStorage, opts: GcOptions = {}): Promise<GcResult> {
  const marked = new Set<string>();
  const deletedManifests: string[] = [];
  for (const repo of await storage.repositories()) {
    let revisions = await storage.revisions(repo);
    if (opts.deleteUntagged) {
      const reachable = new Set<string>();
      const visit = async (digest: string): Promise<void> => {
        if (reachable.has(digest)) return;
        reachable.add(digest);
        const m = await storage.getManifest(repo, digest);
        if (!m) return;
        try {
          for (const c of parseManifest(m.bytes).manifests ?? []) await visit(c.digest);
        } catch {
          /* unreadable manifest: keep only itself */
        }
      };
      for (const tag of await storage.tags(repo)) {
        const d = await storage.resolveTag(repo, tag);
        if (d) await visit(d);
      }
      for (const r of revisions) {
        if (reachable.has(r)) continue;
        // referrers of a reachable manifest stay
        const m = await storage.getManifest(repo, r);
        let subject: string | undefined;
        try {
          subject = m ? parseManifest(m.bytes).subject?.digest : undefined;
        } catch {
          subject = undefined;
        }
        if (subject && reachable.has(subject)) continue;
        deletedManifests.push(`${repo}@${r}`);
        if (!opts.dryRun) await storage.deleteManifest(repo, r);
      }
      revisions = opts.dryRun ? revisions : await storage.revisions(repo);
    }
    for (const r of revisions) {
      const m = await storage.getManifest(repo, r);
      if (!m) continue;
      marked.add(r);
      try {
        const parsed = parseManifest(m.bytes);
        if (parsed.config?.digest) marked.add(parsed.config.digest);
        for (const l of parsed.layers ?? []) marked.add(l.digest);
        for (const c of parsed.manifests ?? []) marked.add(c.digest);
      } catch (err) {
        log.warn('gc: unreadable manifest', { repo, digest: r, error: err });
      }
    }
  }
  const deleted: string[] = [];
  for (const b of await storage.allBlobs()) {
    if (marked.has(b)) continue;
    deleted.push(b);
    if (!opts.dryRun) await storage.removeBlob(b);
  }
  // Layer links to deleted blobs would make the registry claim blobs it no longer has.
  if (!opts.dryRun && deleted.length > 0) {
    const gone = new Set(deleted);
    for (const repo of await storage.repositories()) {
      for (const l of await storage.layers(repo)) if (gone.has(l)) await storage.unlinkBlob(repo, l);
    }
  }
  let deletedUploads = 0;
  const maxAge = opts.uploadMaxAgeMs ?? 24 * 3600 * 1000;
  for (const u of await storage.listUploads()) {
    if (Date.now() - u.mtimeMs < maxAge) continue;
    deletedUploads++;
    if (!opts.dryRun) await storage.removeUpload(u.id);
  }
  return { marked: marked.size, deleted, deletedManifests, deletedUploads };
}
