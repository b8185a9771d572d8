// Dockerfile word processing, after moby's frontend/dockerfile/shell/lex.go: quotes, the escape
// character, and variable substitution ($VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:+alt}, ${VAR+alt}, ${VAR:?err}, ${VAR?err}). dockerfile-ast gives us the instruction
// structure; expansion and word splitting are ours because it does neither the way the builder must.
import { InvalidParameter } from '../../lib/errors.ts';

/** Variables visible to an instruction: name → value (unset names are absent). */
export type Vars = ReadonlyMap<string, string>;

const NAME_CHAR = /[A-Za-z0-9_]/;

class Lexer {
  private pos = 0;
  private readonly text: string;
  private readonly escape: string;
  private readonly vars: Vars;
  /** Word splitting mode (ProcessWords): unquoted blanks and unquoted expansions split. */
  private readonly split: boolean;
  readonly words: string[] = [];
  private cur = '';
  private inWord = false;

  constructor(text: string, vars: Vars, escape: string, split: boolean) {
    this.text = text;
    this.vars = vars;
    this.escape = escape;
    this.split = split;
  }

  private peek(): string | undefined {
    return this.pos < this.text.length ? this.text[this.pos] : undefined;
  }
  private next(): string | undefined {
    return this.pos < this.text.length ? this.text[this.pos++] : undefined;
  }

  /** Add characters that may split (unquoted). */
  private addSplittable(s: string): void {
    if (!this.split) {
      this.cur += s;
      return;
    }
    for (const ch of s) {
      if (/\s/.test(ch)) this.endWord();
      else {
        this.cur += ch;
        this.inWord = true;
      }
    }
  }
  /** Add characters that never split (quoted or escaped). */
  private addRaw(s: string): void {
    this.cur += s;
    this.inWord = true;
  }
  private endWord(): void {
    if (this.inWord || this.cur !== '') this.words.push(this.cur);
    this.cur = '';
    this.inWord = false;
  }

  run(): void {
    this.process(undefined, this.split);
    this.endWord();
  }

  /** Process until `stop` (consumed) or the end; returns the text produced (non-split mode). */
  private process(stop: string | undefined, splitting: boolean): void {
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.pos++;
        return;
      }
      if (ch === "'") {
        this.pos++;
        this.addRaw(this.singleQuoted());
        this.inWord = true;
      } else if (ch === '"') {
        this.pos++;
        this.addRaw(this.doubleQuoted());
        this.inWord = true;
      } else if (ch === '$') {
        this.pos++;
        const value = this.dollar();
        if (splitting) this.addSplittable(value);
        else this.addRaw(value);
      } else if (ch === this.escape) {
        this.pos++;
        const n = this.next();
        if (n !== undefined) this.addRaw(n);
      } else {
        this.pos++;
        if (splitting) this.addSplittable(ch);
        else this.addRaw(ch);
      }
    }
    if (stop !== undefined) throw new InvalidParameter(`missing '${stop}' in: ${this.text}`);
  }

  private singleQuoted(): string {
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new InvalidParameter('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuoted(): string {
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new InvalidParameter('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') return out;
      if (ch === '$') out += this.dollar();
      else if (ch === this.escape) {
        const n = this.peek();
        if (n === '"' || n === '$' || n === this.escape) {
          this.pos++;
          out += n;
        } else out += ch;
      } else out += ch;
    }
  }

  private name(): string {
    let name = '';
    const first = this.peek();
    if (first !== undefined && /[0-9]/.test(first)) {
      this.pos++;
      return first; // positional: a single digit
    }
    for (let ch = this.peek(); ch !== undefined && NAME_CHAR.test(ch); ch = this.peek()) {
      name += ch;
      this.pos++;
    }
    return name;
  }

  /** After a `$`: the substituted value. */
  private dollar(): string {
    const ch = this.peek();
    if (ch === '{') {
      this.pos++;
      const name = this.name();
      if (name === '') throw new InvalidParameter(`bad substitution: invalid variable name in ${this.text}`);
      const value = this.vars.get(name);
      let op = this.next();
      if (op === '}') return value ?? '';
      let colon = false;
      if (op === ':') {
        colon = true;
        op = this.next();
      }
      if (op !== '-' && op !== '+' && op !== '?') {
        throw new InvalidParameter(`unsupported modifier (${colon ? ':' : ''}${op ?? ''}) in substitution: ${this.text}`);
      }
      const word = this.subWord();
      const isSet = colon ? value !== undefined && value !== '' : value !== undefined;
      if (op === '-') return isSet ? value! : word;
      if (op === '+') return isSet ? word : '';
      if (!isSet) throw new InvalidParameter(`${name}: ${word || 'is not allowed to be unset'}`);
      return value!;
    }
    if (ch !== undefined && NAME_CHAR.test(ch)) return this.vars.get(this.name()) ?? '';
    return '$';
  }

  /** The word inside `${name:-word}` up to the closing brace, itself expanded (no splitting). */
  private subWord(): string {
    const inner = new Lexer(this.text, this.vars, this.escape, false);
    inner.pos = this.pos;
    inner.process('}', false);
    this.pos = inner.pos;
    return inner.cur;
  }
}

/** Expand one word (quotes removed, variables substituted): moby's ProcessWord. */
export function processWord(text: string, vars: Vars, escape = '\\'): string {
  const lx = new Lexer(text, vars, escape, false);
  lx.run();
  return lx.words.join('');
}

/** Expand and split into words on unquoted blanks: moby's ProcessWords. */
export function processWords(text: string, vars: Vars, escape = '\\'): string[] {
  const lx = new Lexer(text, vars, escape, true);
  lx.run();
  return lx.words;
}

/**
 * Split on unquoted whitespace keeping quotes and escapes in the words (moby's parseWords), for
 * `ENV a="b c" d=e`: each word is expanded with processWord afterwards.
 */
export function splitKeepingQuotes(text: string, escape = '\\'): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote === undefined && /\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === escape && quote !== "'" && i + 1 < text.length) {
      cur += ch + text[++i];
      continue;
    }
    if (quote === undefined && (ch === '"' || ch === "'")) quote = ch;
    else if (quote === ch) quote = undefined;
    cur += ch;
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * `KEY=VALUE ...` pairs (ENV, LABEL, ARG), or the legacy `KEY VALUE` form when the first word
 * has no `=` and `legacy` is allowed. Values are still unexpanded (quotes kept).
 */
export function parseNameVal(args: string, keyword: string, escape = '\\', legacy = true): Array<[string, string]> {
  const words = splitKeepingQuotes(args, escape);
  if (words.length === 0) throw new InvalidParameter(`${keyword} requires at least one argument`);
  if (!words[0].includes('=')) {
    if (!legacy) throw new InvalidParameter(`Syntax error - can't find = in "${words[0]}". Must be of the form: name=value`);
    const m = /^\s*(\S+)\s+([\s\S]*)$/.exec(args);
    if (!m) throw new InvalidParameter(`${keyword} must have two arguments`);
    return [[m[1], m[2].trim()]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i < 0) throw new InvalidParameter(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    if (i === 0) throw new InvalidParameter(`${keyword} names can not be blank`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}
