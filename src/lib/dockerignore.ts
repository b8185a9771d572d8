// .dockerignore, shared by the client (what goes into the context tar) and the builder (what the
// checksums and COPY see): Docker's pattern syntax through @balena/dockerignore, which implements
// moby's fileutils.PatternMatcher rules (`**`, `!` exceptions, a directory match covers its children).
import ignore from '@balena/dockerignore';

export type IgnoreMatcher = (relPath: string) => boolean;

/** Parse .dockerignore text as the docker CLI does: comments, blank lines, leading `/` and `./` dropped. */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (line === '') continue;
    let neg = false;
    if (line.startsWith('!')) {
      neg = true;
      line = line.slice(1).trim();
    }
    line = line.replace(/^(?:\.?\/)+/, '');
    if (line === '' || line === '.') continue;
    out.push((neg ? '!' : '') + line);
  }
  return out;
}

/**
 * A predicate: is this context-relative path (no leading `./`) excluded? The Dockerfile and
 * .dockerignore themselves are never excluded from what the daemon receives (docker sends them).
 */
export function dockerignoreMatcher(patterns: readonly string[], keep: readonly string[] = []): IgnoreMatcher {
  if (patterns.length === 0) return () => false;
  // A CommonJS module: under nodenext the default import is module.exports, whose `default` is the factory.
  const ig = ignore.default().add([...patterns]);
  const kept = new Set(keep);
  return (relPath) => {
    const p = relPath.replace(/^\.\//, '');
    if (p === '' || kept.has(p)) return false;
    return ig.ignores(p);
  };
}
