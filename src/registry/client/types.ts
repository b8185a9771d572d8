// What the daemon needs from a registry client (cmd/berthd.ts binds the concrete RegistryClient).
import type { Readable } from 'node:stream';
import type { RegistryCredentials } from './auth.ts';

export interface RegistrySession {
  readonly domain: string;
  ping(): Promise<void>;
  login(): Promise<void>;
  getManifest(repo: string, ref: string): Promise<{ bytes: Buffer; mediaType: string; digest?: string }>;
  headManifest(repo: string, ref: string): Promise<{ digest?: string; size: number; mediaType: string } | undefined>;
  getBlob(repo: string, digest: string, start?: number, signal?: AbortSignal): Promise<{ body: Readable; size: number }>;
  headBlob(repo: string, digest: string): Promise<number | undefined>;
  listTags(repo: string): Promise<string[]>;
  uploadBlob(repo: string, digest: string, size: number, open: () => Readable, mountFrom?: string): Promise<'pushed' | 'mounted'>;
  putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<string | undefined>;
}

/** Async so that berthd loads the HTTP client (undici, ~14 MB resident) only when a registry is used. */
export type RegistrySessionFactory = (opts: { domain: string; credentials?: RegistryCredentials; purpose: 'pull' | 'push' | 'login' }) => Promise<RegistrySession>;
