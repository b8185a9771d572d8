// Manifest shapes shared by the registry server and client: the four media types the
// distribution spec serves, and the descriptors a manifest or index points to.
import type { Descriptor, Platform } from '../types/oci.ts';
import { MediaTypes } from '../types/oci.ts';

export interface IndexManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface AnyManifest {
  schemaVersion?: number;
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Array<Descriptor & { urls?: string[] }>;
  manifests?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export const IMAGE_MANIFEST_TYPES: readonly string[] = [MediaTypes.ociManifest, MediaTypes.dockerManifest];
export const INDEX_TYPES: readonly string[] = [MediaTypes.ociIndex, MediaTypes.dockerManifestList];
export const MANIFEST_TYPES: readonly string[] = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES];

/** The Accept header a client sends for manifests (every type it can read). */
export const MANIFEST_ACCEPT = MANIFEST_TYPES.join(', ');

export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.includes(mediaType);
}

/** Parse manifest JSON; throws on malformed input (the caller turns it into MANIFEST_INVALID). */
export function parseManifest(bytes: Uint8Array): AnyManifest {
  const v: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('manifest is not a JSON object');
  return v as AnyManifest;
}

/**
 * The media type of a manifest: its `mediaType` field, else the Content-Type it came with, else
 * guessed from its shape (OCI allows an absent mediaType).
 */
export function manifestMediaType(m: AnyManifest, contentType?: string): string {
  if (m.mediaType) return m.mediaType;
  const ct = contentType?.split(';')[0].trim();
  if (ct && MANIFEST_TYPES.includes(ct)) return ct;
  return Array.isArray(m.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
}

/** OCI's artifactType of a manifest: its own field, or (image manifests) its config's media type. */
export function artifactTypeOf(m: AnyManifest): string | undefined {
  if (m.artifactType) return m.artifactType;
  if (m.config && !Array.isArray(m.manifests)) return m.config.mediaType;
  return undefined;
}

/** Platform of the host in OCI terms (amd64, arm64 with variant v8, …). */
export function hostPlatform(): Platform {
  const archMap: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: archMap[process.arch] ?? process.arch };
}

/** `linux/arm64/v8` → Platform; throws on a malformed string. */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw new Error(`invalid platform: ${s} (os/arch[/variant])`);
  const arch = parts[1] === 'x86_64' ? 'amd64' : parts[1] === 'aarch64' ? 'arm64' : parts[1];
  return { os: parts[0].toLowerCase(), architecture: arch, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}`;
}

/** Whether an index entry's platform serves `want` (variant only checked when both name one). */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  if (want.variant && have.variant && want.variant !== have.variant) return false;
  return true;
}
