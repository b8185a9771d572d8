// Rendering of JSON-lines progress (pull, import, load, push): plain lines when the output is not a
// terminal (progress bars skipped, like docker), one updating line per layer id on a terminal.
import type { JSONMessage } from '../types/docker.ts';
import type { CliOutput } from './context.ts';

export interface ProgressRenderer {
  write: (message: JSONMessage) => void;
  end: () => void;
}

function lineOf(m: JSONMessage, withBar: boolean): string {
  const id = m.id ? `${m.id}: ` : '';
  const bar = withBar && m.progress ? ` ${m.progress}` : '';
  return `${id}${m.status ?? ''}${bar}`;
}

export function renderProgress(out: CliOutput): ProgressRenderer {
  return out.isTTY ? new TerminalProgress(out) : new PlainProgress(out);
}

class PlainProgress implements ProgressRenderer {
  private readonly out: CliOutput;
  constructor(out: CliOutput) {
    this.out = out;
  }
  write = (m: JSONMessage): void => {
    if (m.stream !== undefined) {
      this.out.write(m.stream);
      return;
    }
    // byte counters only make sense on a terminal
    if (m.progressDetail && (m.progressDetail.current !== undefined || m.progress)) return;
    if (m.status === undefined) return;
    this.out.write(lineOf(m, false) + '\n');
  };
  end = (): void => undefined;
}

/** Keeps one line per id and rewrites it in place with ANSI cursor movement. */
class TerminalProgress implements ProgressRenderer {
  private readonly out: CliOutput;
  private readonly ids: string[] = [];
  constructor(out: CliOutput) {
    this.out = out;
  }
  write = (m: JSONMessage): void => {
    if (m.stream !== undefined) {
      this.out.write(m.stream);
      return;
    }
    if (m.status === undefined) return;
    const line = lineOf(m, true);
    if (!m.id) {
      this.out.write(line + '\n');
      return;
    }
    const index = this.ids.indexOf(m.id);
    if (index < 0) {
      this.ids.push(m.id);
      this.out.write(line + '\n');
      return;
    }
    const up = this.ids.length - index;
    this.out.write(`\x1b[${up}A\r\x1b[2K${line}\n${up > 1 ? `\x1b[${up - 1}B` : ''}`);
  };
  end = (): void => undefined;
}
