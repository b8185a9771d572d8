// Image references as the docker CLI handles them: "busybox" → docker.io/library/busybox:latest for
// pulls and tag targets, but shown and sent as typed elsewhere (docker-api-trace §5.3).

export interface ParsedReference {
  /** Repository as typed ("busybox", "127.0.0.1:5000/test/big"). */
  repo: string;
  tag?: string;
  digest?: string;
}

export function parseReference(ref: string): ParsedReference {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { repo: rest, tag, digest };
}

/** docker.io/library/busybox for "busybox"; registries (with . or : or localhost) stay as they are. */
export function qualifiedRepo(repo: string): string {
  const slash = repo.indexOf('/');
  const first = slash < 0 ? '' : repo.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) return repo;
  return slash < 0 ? `docker.io/library/${repo}` : `docker.io/${repo}`;
}

/** "busybox" → "busybox:latest", as in "Unable to find image 'busybox:latest' locally". */
export function withDefaultTag(ref: string): string {
  const parsed = parseReference(ref);
  return parsed.tag || parsed.digest ? ref : `${ref}:latest`;
}

const REFERENCE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export function isValidReference(ref: string): boolean {
  const host = /^([a-zA-Z0-9.-]+(?::\d+)?)\//.exec(ref);
  const rest = host && (host[1].includes('.') || host[1].includes(':')) ? ref.slice(host[0].length) : ref;
  return REFERENCE.test(rest);
}
