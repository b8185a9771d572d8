// Docker's JSON progress messages for pull, push and load: per-id status lines and the
// `[=====>      ]  1.2MB/3.4MB` bar, throttled so a fast transfer does not flood the stream.
import { humanSize } from '../../lib/units.ts';
import type { JSONMessage } from '../../types/docker.ts';

export type ProgressSink = (m: JSONMessage) => void;

const BAR_WIDTH = 50;

/** The progress string docker's jsonmessage renders (`[==>   ]  1.2MB/3.4MB`). */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return `${humanSize(current)}`.padStart(8);
  const n = Math.min(BAR_WIDTH, Math.floor((current / total) * BAR_WIDTH));
  const bar = n >= BAR_WIDTH ? '='.repeat(BAR_WIDTH) : '='.repeat(n) + '>' + ' '.repeat(BAR_WIDTH - n - 1);
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

export function status(id: string | undefined, text: string): JSONMessage {
  return id === undefined ? { status: text } : { status: text, progressDetail: {}, id };
}

/** A byte counter that emits `status` messages with progressDetail at most every 100 ms (and at the end). */
export class ProgressCounter {
  private current = 0;
  private last = 0;
  private lastTime = 0;
  private readonly sink: ProgressSink;
  private readonly id: string;
  private readonly text: string;
  private readonly total: number;
  constructor(sink: ProgressSink, id: string, text: string, total: number) {
    this.sink = sink;
    this.id = id;
    this.text = text;
    this.total = total;
  }
  /** Set the absolute position (resumed downloads start above 0). */
  set(n: number): void {
    this.current = n;
    this.maybeEmit();
  }
  add(n: number): void {
    this.current += n;
    this.maybeEmit();
  }
  private maybeEmit(): void {
    // dockerd's progress reader: at most one update per 100 ms, plus the last one
    if (this.current !== this.total && this.current === this.last) return;
    const now = Date.now();
    if (now - this.lastTime < 100 && this.current !== this.total) return;
    this.last = this.current;
    this.lastTime = now;
    this.sink({ status: this.text, progressDetail: { current: this.current, total: this.total }, progress: progressBar(this.current, this.total), id: this.id });
  }
}

/** Run `fn` over items with at most `limit` in flight; rejects with the first failure after all settle. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
  return results;
}
