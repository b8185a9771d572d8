// The local terminal around an interactive session (run -it, exec -it, attach): raw mode while
// it lasts, and the terminal's size sent at start and at every SIGWINCH, as the docker CLI does.
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
