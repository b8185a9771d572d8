import type { ImageConfig } from '../../types/oci.ts';

/** A stored image: the config blob's digest is the image ID, as in Docker. */
export interface ImageRecord {
  id: string; // sha256:<hex> of the config
  config: ImageConfig;
  manifestDigest?: string;
  chainId: string; // '' for an image without layers
  size: number;
  parent: string;
  created: number; // unix ms
  lastTagTime: number; // unix ms, 0 if never tagged
  refs: string[]; // normalized references (docker.io/library/busybox:latest)
}

/** What the container side needs from the image store. */
export interface ImageResolver {
  /** Resolve a reference as the user typed it (name[:tag], name@digest, full or short ID). Throws NotFound "No such image: <ref>". */
  resolve(ref: string): Promise<ImageRecord>;
  get(id: string): ImageRecord | undefined;
}
