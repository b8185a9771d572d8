import { InvalidParameter } from '../../lib/errors.ts';

// Docker image references (distribution/reference): grammar, normalization to the fully
// qualified form stored in image_refs (`docker.io/library/busybox:latest`), and the familiar form
// shown to users (`busybox:latest`).

export const DEFAULT_DOMAIN = 'docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const NAME_TOTAL_LENGTH_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE_RE = new RegExp(`^((?:${domainName}/)?${pathComponent}(?:/${pathComponent})*)(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const DOMAIN_RE = new RegExp(`^${domainName}$`);
const ANCHORED_HEX64 = /^[a-f0-9]{64}$/;
const TAG_RE = new RegExp(`^${tagPattern}$`);

/** A parsed, normalized reference. `name` is `domain/path`; tag and digest are optional. */
export interface Reference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

export function refName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** The fully qualified string: `docker.io/library/busybox:latest`, `host:5000/x@sha256:…`. */
export function formatReference(r: Reference): string {
  let s = refName(r);
  if (r.tag !== undefined) s += ':' + r.tag;
  if (r.digest !== undefined) s += '@' + r.digest;
  return s;
}

function invalid(detail?: string): InvalidParameter {
  return new InvalidParameter(detail ? `invalid reference format: ${detail}` : 'invalid reference format');
}

/** Split off the registry domain as Docker does: only a first component with `.` or `:`, `localhost`, or uppercase is a domain. */
function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i < 0 ? '' : name.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * Parse a reference as the user typed it (ParseNormalizedNamed): `busybox`, `busybox:1`,
 * `localhost:5000/x/y:t`, `name@sha256:…`. No default tag is added.
 */
export function parseNormalizedNamed(s: string): Reference {
  if (ANCHORED_HEX64.test(s)) {
    throw new InvalidParameter(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) {
    throw invalid(`repository name (${remoteName}) must be lowercase`);
  }
  return parseFullyQualified(`${domain}/${remainder}`);
}

/** Parse an already qualified reference (`docker.io/library/busybox:latest`). */
export function parseFullyQualified(s: string): Reference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (s === '') throw invalid();
    throw invalid();
  }
  const name = m[1];
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const slash = name.indexOf('/');
  const r: Reference = { domain: name.slice(0, slash), path: name.slice(slash + 1) };
  if (!DOMAIN_RE.test(r.domain)) throw invalid();
  if (m[2] !== undefined) r.tag = m[2];
  if (m[3] !== undefined) r.digest = m[3];
  return r;
}

/** Add `:latest` when the reference has neither tag nor digest (TagNameOnly). */
export function withDefaultTag(r: Reference): Reference {
  return r.tag === undefined && r.digest === undefined ? { ...r, tag: DEFAULT_TAG } : r;
}

/** `busybox` → `docker.io/library/busybox:latest`. Throws InvalidParameter. */
export function normalize(s: string): string {
  return formatReference(withDefaultTag(parseNormalizedNamed(s)));
}

/** Validate a tag on its own (the `tag` query parameter). */
export function validateTag(tag: string): void {
  if (!TAG_RE.test(tag)) throw invalid();
}

/** The familiar name without tag or digest: `docker.io/library/busybox` → `busybox`. */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return refName(r);
  const path = r.path;
  if (path.startsWith(OFFICIAL_REPO_PREFIX) && !path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return path;
}

/** The familiar string for display: `docker.io/library/busybox:latest` → `busybox:latest`. */
export function familiar(ref: string | Reference): string {
  const r = typeof ref === 'string' ? parseFullyQualified(ref) : ref;
  let s = familiarName(r);
  if (r.tag !== undefined) s += ':' + r.tag;
  if (r.digest !== undefined) s += '@' + r.digest;
  return s;
}

/** Docker's path.Match used by the `reference` filter: `*` and `?` stop at `/`; `[...]` classes. */
export function pathMatch(pattern: string, s: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) return false; // path.ErrBadPattern: matches nothing
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '!' + cls.slice(1);
      re += cls.startsWith('!') ? `[^${cls.slice(1).replace(/\\/g, '\\\\')}]` : `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.+?^${}()|[\]\\*]/g, '\\$&');
    } else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$').test(s);
  } catch {
    return false;
  }
}

/** FamiliarMatch: the pattern against the familiar string, then against the familiar name. */
export function familiarMatch(pattern: string, ref: string | Reference): boolean {
  const r = typeof ref === 'string' ? parseFullyQualified(ref) : ref;
  return pathMatch(pattern, familiar(r)) || pathMatch(pattern, familiarName(r));
}
