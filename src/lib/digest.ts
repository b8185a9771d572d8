import { createHash, randomBytes } from 'node:crypto';

export const SHA256_RE = /^sha256:[a-f0-9]{64}$/;

export function sha256(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function isDigest(s: string): boolean {
  return SHA256_RE.test(s);
}

/** The hex part of "sha256:<hex>". */
export function digestHex(digest: string): string {
  const i = digest.indexOf(':');
  return i < 0 ? digest : digest.slice(i + 1);
}

/** A random 64-hex identifier, like Docker's container IDs. */
export function randomId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return digestHex(id).slice(0, 12);
}

/** The chain ID of a list of diff IDs, as the OCI image spec defines it. */
export function chainId(diffIds: readonly string[]): string {
  let chain = '';
  for (const d of diffIds) chain = chain === '' ? d : sha256(`${chain} ${d}`);
  return chain;
}
