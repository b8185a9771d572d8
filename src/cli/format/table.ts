// Tab-separated text aligned like Go's text/tabwriter as docker configures it
// (minwidth 10, padding 3, padchar ' '), and the `--format` / `table` handling shared by list commands.
import { compileTemplate, unescapeFormat } from './template.ts';

const MIN_WIDTH = 10;
const PADDING = 3;

/** Align tab-separated lines. Every cell but the last of a line is padded to its column's width. */
export function alignColumns(text: string): string {
  const lines = text.split('\n');
  const cells = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const row of cells) {
    row.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, width(cell) + PADDING, MIN_WIDTH);
    });
  }
  return cells
    .map((row) => row.map((cell, i) => (i < row.length - 1 ? cell + ' '.repeat(widths[i] - width(cell)) : cell)).join(''))
    .join('\n');
}

/** Display width in code points (docker's tabwriter counts runes). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export interface ListFormatOptions<Row> {
  /** The user's --format, if any ("table …", "json", or a template). */
  format: string | undefined;
  /** The default table template, without the "table " prefix. */
  defaultTable: string;
  /** Column titles for table headers, keyed by template field name. */
  headers: Record<string, string>;
  rows: Row[];
}

/** Render rows like docker's formatter: a table (with headers, aligned) or one template line per row. */
export function formatList<Row extends object>(options: ListFormatOptions<Row>): string {
  let format = options.format ?? 'table';
  if (format === 'json') format = '{{json .}}';
  const isTable = format.startsWith('table');
  let body = isTable ? format.slice('table'.length).trim() : format;
  if (isTable && body === '') body = options.defaultTable;
  body = unescapeFormat(body);
  const template = compileTemplate(body);
  const lines: string[] = [];
  if (isTable) {
    // docker renders the header by running the template over the column titles
    const headerRow = new Proxy({} as Record<string, string>, {
      get: (_t, key) => (typeof key === 'string' ? (options.headers[key] ?? key.toUpperCase()) : undefined),
    });
    lines.push(template.execute(headerRow));
  }
  for (const row of options.rows) lines.push(template.execute(row));
  if (!isTable) return lines.map((l) => l + '\n').join('');
  return alignColumns(lines.join('\n')) + '\n';
}
