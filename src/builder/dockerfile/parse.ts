// Dockerfile → instructions grouped into stages. dockerfile-ast does the syntax (parser directives,
// the escape character, line continuations, comments inside continuations, flags, heredoc
// markers); this module turns its tree into the plain records the evaluator dispatches.
import { DockerfileParser } from 'dockerfile-ast';
import { InvalidParameter } from '../../lib/errors.ts';

export interface Flag {
  name: string;
  /** null for a bare `--link`. */
  value: string | null;
}

export interface Heredoc {
  name: string;
  /** The body, each line ending in `\n`. */
  content: string;
  /** Quoted delimiter (`<<"EOF"`): no variable expansion in the body. */
  quoted: boolean;
}

export interface Instruction {
  /** Upper-case keyword: RUN, COPY, … */
  keyword: string;
  /** As Docker prints it in `Step i/n : …`: keyword, flags and arguments, continuations joined. */
  original: string;
  /** 1-based line of the keyword. */
  line: number;
  flags: Flag[];
  /** The arguments without flags, continuations joined (heredoc bodies excluded). */
  args: string;
  /** Exec form: the arguments parsed as a JSON array of strings. */
  json?: string[];
  heredocs: Heredoc[];
}

export interface Stage {
  /** Position among the stages, from 0. */
  index: number;
  /** The `AS name`, lower-cased, if any. */
  name?: string;
  from: Instruction;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  escape: string;
  /** ARGs before the first FROM (global build arguments). */
  metaArgs: Instruction[];
  stages: Stage[];
}

const KNOWN = new Set(['ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);
const HEREDOC_RE = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2/g;
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);

/** A string array in JSON (exec form), or undefined when the text is not one. */
export function parseJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* shell form */
  }
  return undefined;
}

/** Heredoc bodies of an instruction from its raw text (first line holds the markers). */
function extractHeredocs(raw: string, firstLine: string): Heredoc[] {
  const markers = [...firstLine.matchAll(HEREDOC_RE)];
  if (markers.length === 0) return [];
  const lines = raw.split('\n').slice(1);
  const out: Heredoc[] = [];
  let i = 0;
  for (const m of markers) {
    const chomp = m[1] === '-';
    const name = m[3];
    const body: string[] = [];
    let closed = false;
    for (; i < lines.length; i++) {
      const line = chomp ? lines[i].replace(/^\t+/, '') : lines[i];
      if (line === name) {
        closed = true;
        i++;
        break;
      }
      body.push(line + '\n');
    }
    if (!closed) throw new InvalidParameter(`unterminated heredoc ${name}`);
    out.push({ name, content: body.join(''), quoted: m[2] !== '' });
  }
  return out;
}

/** Parse a Dockerfile. Throws InvalidParameter with the line on syntax errors. */
/**
 * Recently parsed Dockerfiles by text: a rebuild sends the same text, and dockerfile-ast (a
 * language-server parser) costs ~1 ms for ten lines, on the path of every cached build. Callers get
 * a copy, so nothing they do to the records reaches the cache.
 */
const parsedCache = new Map<string, ParsedDockerfile>();
const PARSED_CACHE_SIZE = 16;

/** Parse a Dockerfile (see parseUncached), through a small cache of recent texts. */
export function parseDockerfile(text: string): ParsedDockerfile {
  let parsed = parsedCache.get(text);
  if (parsed) {
    parsedCache.delete(text); // most recently used last
  } else {
    parsed = parseUncached(text);
    if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.delete(parsedCache.keys().next().value!);
  }
  parsedCache.set(text, parsed);
  return structuredClone(parsed);
}

function parseUncached(text: string): ParsedDockerfile {
  const df = DockerfileParser.parse(text.replace(/\r\n/g, '\n'));
  const escape = df.getEscapeCharacter();
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];

  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase();
    const range = ins.getRange();
    const line = range.start.line + 1;
    if (!KNOWN.has(keyword)) throw new InvalidParameter(`dockerfile parse error on line ${line}: unknown instruction: ${ins.getInstruction()}`);
    const rawLines = lines.slice(range.start.line, range.end.line + 1);
    const raw = rawLines.join('\n');
    const flagsOf = (ins as { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> }).getFlags;
    const flags: Flag[] = flagsOf ? flagsOf.call(ins).map((f) => ({ name: f.getName(), value: f.getValue() })) : [];

    let args: string;
    let heredocs: Heredoc[] = [];
    const firstLine = rawLines[0] ?? '';
    if (HEREDOC_KEYWORDS.has(keyword) && HEREDOC_RE.test(firstLine)) {
      HEREDOC_RE.lastIndex = 0;
      heredocs = extractHeredocs(raw, firstLine);
      // The command line: the first line after keyword and flags.
      args = firstLine.replace(/^\s*\S+\s*/, '').replace(/^(?:--\S+\s+)*/, '').trim();
    } else {
      args = (ins.getArgumentsContent() ?? '').trim();
      if (flags.length > 0) {
        // dockerfile-ast leaves flags out of the content only for instructions it knows take them.
        args = args.replace(/^(?:--[A-Za-z-]+(?:=\S*)?\s+)*/, '');
      }
    }
    HEREDOC_RE.lastIndex = 0;
    const flagText = flags.map((f) => (f.value === null ? `--${f.name}` : `--${f.name}=${f.value}`)).join(' ');
    const original = [ins.getInstruction(), flagText, args].filter((s) => s !== '').join(' ');
    const instruction: Instruction = { keyword, original, line, flags, args, heredocs };
    const json = heredocs.length === 0 ? parseJsonArray(args) : undefined;
    if (json) instruction.json = json;

    if (keyword === 'FROM') {
      const words = args.split(/\s+/).filter(Boolean);
      let name: string | undefined;
      if (words.length === 3 && words[1].toUpperCase() === 'AS') name = words[2].toLowerCase();
      else if (words.length !== 1) throw new InvalidParameter(`dockerfile parse error on line ${line}: FROM requires either one or three arguments`);
      if (name !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(name)) throw new InvalidParameter(`invalid name for build stage: "${name}", name can't start with a number or contain symbols`);
      stages.push({ index: stages.length, name, from: instruction, instructions: [] });
      continue;
    }
    if (stages.length === 0) {
      if (keyword !== 'ARG') throw new InvalidParameter(`dockerfile parse error on line ${line}: ${keyword} before the first FROM (only ARG may come first)`);
      metaArgs.push(instruction);
      continue;
    }
    stages[stages.length - 1].instructions.push(instruction);
  }
  if (stages.length === 0) throw new InvalidParameter('the Dockerfile (or its target) has no FROM instruction');
  return { escape, metaArgs, stages };
}
