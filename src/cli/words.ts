// The words that name a berth command (`run`, `container ls`), found without parsing its options:
// main.ts loads only that command's module, and the CLI bundle's code cache is kept per command
// (cmd/code-cache.ts).

export const GROUPS = ['container', 'image', 'system', 'volume', 'network', 'builder'] as const;
export type Group = (typeof GROUPS)[number];

const GROUP_SET: ReadonlySet<string> = new Set(GROUPS);

/** Global options that take a value; needed to find the command word without parsing everything. */
const GLOBAL_WITH_VALUE = new Set(['-H', '--host', '-l', '--log-level', '--config', '-c', '--context', '--tlscacert', '--tlscert', '--tlskey']);

export function isGroup(word: string): word is Group {
  return GROUP_SET.has(word);
}

/** ["ps"], ["container", "ls"], or [] when argv names no command (only global options). */
export function commandWords(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const a = args[i]!;
    if (words.length === 0 && a.startsWith('-')) {
      if (GLOBAL_WITH_VALUE.has(a)) i++;
      continue;
    }
    if (words.length === 1 && a.startsWith('-')) break;
    words.push(a);
    if (words.length === 1 && !isGroup(a)) break;
  }
  return words;
}
