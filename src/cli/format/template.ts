// A Go text/template subset for `--format`: {{.Field}}, {{.A.B}}, {{json .}}, {{index .Labels "k"}},
// {{join .Names ","}}, {{upper}}/{{lower}}/{{title}}, pipelines with |, {{range}}/{{if}}/{{with}}
// … {{else}} … {{end}}, $ for the root, and {{- -}} trimming. Enough for docker's documented cases.

type Value = unknown;

interface TextNode {
  kind: 'text';
  text: string;
}
interface ActionNode {
  kind: 'action';
  pipe: Pipeline;
}
interface BlockNode {
  kind: 'range' | 'if' | 'with';
  pipe: Pipeline;
  body: Node[];
  otherwise: Node[];
}
type Node = TextNode | ActionNode | BlockNode;

type Operand =
  | { kind: 'field'; base: 'dot' | 'root'; path: string[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'func'; name: string }
  | { kind: 'pipe'; pipe: Pipeline };
type Command = Operand[];
type Pipeline = Command[];

export class TemplateError extends Error {}

type TemplateFunction = (...args: Value[]) => Value;

/** Go's json.Marshal escapes <, > and & (docker output shows \u003c). */
export function goJson(value: Value): string {
  const text = JSON.stringify(value === undefined ? null : value) ?? 'null';
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const FUNCTIONS: Record<string, TemplateFunction> = {
  json: (v) => goJson(v),
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) cur = cur == null ? undefined : (cur as Record<string, Value>)[String(k)];
    return cur;
  },
  join: (list, sep) => (Array.isArray(list) ? list.map((x) => render(x)).join(String(sep)) : render(list)),
  split: (s, sep) => String(s).split(String(sep)),
  upper: (s) => render(s).toUpperCase(),
  lower: (s) => render(s).toLowerCase(),
  title: (s) => render(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  truncate: (s, n) => [...render(s)].slice(0, Number(n)).join(''),
  pad: (s, before, after) => ' '.repeat(Number(before)) + render(s) + ' '.repeat(Number(after)),
  print: (...args) => args.map((a) => render(a)).join(''),
  println: (...args) => args.map((a) => render(a)).join(' ') + '\n',
  printf: (fmt, ...args) => {
    let i = 0;
    return String(fmt).replace(/%[-+ 0#]*\d*(?:\.\d+)?([svdqfx%])/g, (_m, verb: string) => {
      if (verb === '%') return '%';
      const a = args[i++];
      return verb === 'q' ? JSON.stringify(render(a)) : render(a);
    });
  },
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  not: (a) => !truthy(a),
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
};

/** How Go's fmt prints a value: maps as map[k:v], slices as [a b], nil as <no value>. */
export function render(value: Value): string {
  if (value === undefined) return '<no value>';
  if (value === null) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => render(v)).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, Value>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, v]) => `${k}:${render(v)}`).join(' ')}]`;
  }
  return String(value);
}

function truthy(v: Value): boolean {
  if (v == null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

// ---- parsing ----

function tokenize(source: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) {
      out.push({ text: source.slice(pos) });
      break;
    }
    let text = source.slice(pos, open);
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`template: unclosed action`);
    let action = source.slice(open + 2, close);
    if (action.startsWith('-') && /^-\s/.test(action)) {
      text = text.replace(/\s+$/, '');
      action = action.slice(1);
    }
    let trimNext = false;
    if (/\s-$/.test(action)) {
      action = action.slice(0, -1);
      trimNext = true;
    }
    if (text) out.push({ text });
    out.push({ action: action.trim() });
    pos = close + 2;
    if (trimNext) while (pos < source.length && /\s/.test(source[pos])) pos++;
  }
  return out;
}

function lexAction(action: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|\||[^\s()|]+)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(action)) !== null) {
    tokens.push(m[1]);
    if (re.lastIndex >= action.length) break;
  }
  if (tokens.join('').replace(/\s/g, '').length !== action.replace(/\s/g, '').length) {
    throw new TemplateError(`template: bad action: ${action}`);
  }
  return tokens;
}

function parsePipeline(tokens: string[], start = 0): { pipe: Pipeline; next: number } {
  const pipe: Pipeline = [];
  let cmd: Command = [];
  let i = start;
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === ')') break;
    if (t === '|') {
      if (cmd.length === 0) throw new TemplateError('template: missing command before |');
      pipe.push(cmd);
      cmd = [];
      continue;
    }
    if (t === '(') {
      const inner = parsePipeline(tokens, i + 1);
      cmd.push({ kind: 'pipe', pipe: inner.pipe });
      i = inner.next;
      continue;
    }
    cmd.push(parseOperand(t));
  }
  if (cmd.length) pipe.push(cmd);
  if (pipe.length === 0) throw new TemplateError('template: empty command');
  return { pipe, next: i };
}

function parseOperand(t: string): Operand {
  if (t === '.') return { kind: 'field', base: 'dot', path: [] };
  if (t.startsWith('.')) return { kind: 'field', base: 'dot', path: t.slice(1).split('.') };
  if (t === '$') return { kind: 'field', base: 'root', path: [] };
  if (t.startsWith('$.')) return { kind: 'field', base: 'root', path: t.slice(2).split('.') };
  if (t.startsWith('"')) return { kind: 'string', value: JSON.parse(t) as string };
  if (t.startsWith('`')) return { kind: 'string', value: t.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { kind: 'number', value: Number(t) };
  if (t === 'true' || t === 'false') return { kind: 'bool', value: t === 'true' };
  if (t in FUNCTIONS) return { kind: 'func', name: t };
  throw new TemplateError(`template: function "${t}" not defined`);
}

function parse(source: string): Node[] {
  const tokens = tokenize(source);
  let pos = 0;
  const parseList = (stopAt: Set<string>): { nodes: Node[]; stop: string | undefined } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++];
      if ('text' in tok) {
        nodes.push({ kind: 'text', text: tok.text });
        continue;
      }
      const action = tok.action;
      if (action.startsWith('/*')) continue;
      const word = action.split(/\s+/)[0];
      if (stopAt.has(word)) return { nodes, stop: word };
      if (word === 'range' || word === 'if' || word === 'with') {
        const { pipe } = parsePipeline(lexAction(action.slice(word.length)));
        const body = parseList(new Set(['else', 'end']));
        let otherwise: Node[] = [];
        if (body.stop === 'else') otherwise = parseList(new Set(['end'])).nodes;
        else if (body.stop !== 'end') throw new TemplateError(`template: unexpected EOF`);
        nodes.push({ kind: word, pipe, body: body.nodes, otherwise });
        continue;
      }
      if (word === 'end' || word === 'else') throw new TemplateError(`template: unexpected {{${word}}}`);
      nodes.push({ kind: 'action', pipe: parsePipeline(lexAction(action)).pipe });
    }
    return { nodes, stop: undefined };
  };
  const { nodes } = parseList(new Set());
  return nodes;
}

// ---- execution ----

function field(base: Value, path: string[]): Value {
  let cur = base;
  for (const key of path) {
    if (cur == null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, Value>)[key];
  }
  return cur;
}

function evalOperand(op: Operand, dot: Value, root: Value): Value {
  switch (op.kind) {
    case 'field':
      return field(op.base === 'dot' ? dot : root, op.path);
    case 'string':
    case 'number':
    case 'bool':
      return op.value;
    case 'pipe':
      return evalPipeline(op.pipe, dot, root);
    case 'func':
      return FUNCTIONS[op.name]();
  }
}

function evalPipeline(pipe: Pipeline, dot: Value, root: Value): Value {
  let piped: Value = undefined;
  pipe.forEach((cmd, i) => {
    const [head, ...rest] = cmd;
    if (head.kind === 'func') {
      const args = rest.map((op) => evalOperand(op, dot, root));
      if (i > 0) args.push(piped);
      piped = FUNCTIONS[head.name](...args);
    } else {
      if (rest.length) throw new TemplateError(`template: can't give argument to non-function`);
      piped = evalOperand(head, dot, root);
    }
  });
  return piped;
}

function execute(nodes: Node[], dot: Value, root: Value, out: string[]): void {
  for (const node of nodes) {
    if (node.kind === 'text') out.push(node.text);
    else if (node.kind === 'action') out.push(render(evalPipeline(node.pipe, dot, root)));
    else {
      const value = evalPipeline(node.pipe, dot, root);
      if (node.kind === 'if') execute(truthy(value) ? node.body : node.otherwise, dot, root, out);
      else if (node.kind === 'with') {
        if (truthy(value)) execute(node.body, value, root, out);
        else execute(node.otherwise, dot, root, out);
      } else {
        const items = Array.isArray(value) ? value : value && typeof value === 'object' ? Object.values(value) : [];
        if (items.length === 0) execute(node.otherwise, dot, root, out);
        for (const item of items) execute(node.body, item, root, out);
      }
    }
  }
}

export interface CompiledTemplate {
  execute(data: Value): string;
}

/** Compile once, execute per row. Throws TemplateError on a parse error. */
export function compileTemplate(source: string): CompiledTemplate {
  const nodes = parse(source);
  return {
    execute(data: Value): string {
      const out: string[] = [];
      execute(nodes, data, data, out);
      return out.join('');
    },
  };
}

/** docker lets users write `\t` and `\n` literally in --format. */
export function unescapeFormat(format: string): string {
  return format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}
