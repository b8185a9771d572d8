// The local terminal around an interactive session (run -it, exec -it, attach): raw mode while
// it lasts, and the terminal's size sent at start and at every SIGWINCH, as the docker CLI does.
import { Writable } from 'node:stream';
import type { CliIO } from './context.ts';

/** Raw mode on our stdin when it is a terminal; returns the restore function. */
export function enterRawMode(io: CliIO): () => void {
  if (!io.stdin.isTTY || !io.stdin.setRawMode) return () => undefined;
  io.stdin.setRawMode(true);
  return () => void io.stdin.setRawMode?.(false);
}

/** The size of our terminal, if stdout is one with a non-zero size. */
export function terminalSize(io: CliIO): { height: number; width: number } | undefined {
  const { rows, columns } = io.stdout;
  return io.stdout.isTTY && rows && columns ? { height: rows, width: columns } : undefined;
}

/** Send the size now and on every SIGWINCH; returns the unsubscribe function. */
export function followTerminalSize(io: CliIO, resize: (size: { height: number; width: number }) => Promise<void>): () => void {
  const send = (): void => {
    const size = terminalSize(io);
    if (size) void resize(size).catch(() => undefined);
  };
  send();
  process.on('SIGWINCH', send);
  return () => void process.off('SIGWINCH', send);
}

/**
 * Where a TTY session's output goes. Node's raw mode (libuv) keeps ONLCR on our terminal, so the
 * container's "\r\n" would reach the screen as "\r\r\n"; undo that one translation.
 */
export function ttyOutput(io: CliIO): CliIO['stdout'] {
  if (!io.stdout.isTTY || !io.stdin.isTTY) return io.stdout;
  const out = io.stdout;
  let pendingCr = false;
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      let text = chunk;
      if (pendingCr) {
        text = Buffer.concat([Buffer.from('\r'), text]);
        pendingCr = false;
      }
      if (text.length && text[text.length - 1] === 0x0d) {
        pendingCr = true;
        text = text.subarray(0, text.length - 1);
      }
      const fixed = Buffer.from(text.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
      if (out.write(fixed)) cb();
      else out.once('drain', () => cb());
    },
    final(cb) {
      if (pendingCr) out.write('\r');
      cb();
    },
  });
  return w;
}
