// Docker's multiplexed stdout/stderr framing (attach, exec, logs of non-TTY containers):
// [stream 1 byte][3 zero bytes][uint32 BE length][payload]. 0=stdin 1=stdout 2=stderr 3=systemerr.
import type { Readable, Writable } from 'node:stream';

export type StreamKind = 0 | 1 | 2 | 3;

export interface Frame {
  stream: StreamKind;
  payload: Buffer;
}

const HEADER = 8;

/** Incremental frame parser: feed arbitrary chunks, get whole frames back. */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    let offset = 0;
    while (this.pending.length - offset >= HEADER) {
      const length = this.pending.readUInt32BE(offset + 4);
      if (this.pending.length - offset < HEADER + length) break;
      const kind = this.pending[offset];
      if (kind > 3) throw new Error(`unrecognized input header: ${kind}`);
      frames.push({ stream: kind as StreamKind, payload: this.pending.subarray(offset + HEADER, offset + HEADER + length) });
      offset += HEADER + length;
    }
    this.pending = offset === 0 ? this.pending : Buffer.from(this.pending.subarray(offset));
    return frames;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get buffered(): number {
    return this.pending.length;
  }
}

export interface DemuxTargets {
  stdout?: Writable;
  stderr?: Writable;
}

/** Async iterator of frames read from a multiplexed stream. */
export async function* frames(source: AsyncIterable<Buffer>): AsyncGenerator<Frame> {
  const parser = new FrameParser();
  for await (const chunk of source) yield* parser.push(chunk);
}

/**
 * Copy a multiplexed stream to stdout/stderr with backpressure; resolves at the source's end.
 * A systemerr frame (3) rejects with its payload as the message. A target is read from `targets`
 * when a frame for it arrives (so a getter there builds its stream only then).
 */
export async function demuxTo(source: Readable, targets: DemuxTargets): Promise<void> {
  for await (const frame of frames(source)) {
    if (frame.stream === 3) throw new Error(frame.payload.toString('utf8').trim());
    const target = frame.stream === 2 ? targets.stderr : targets.stdout;
    if (target && !target.write(frame.payload)) await waitDrain(target);
  }
}

/** Copy a raw (TTY) stream to one writable; resolves at the source's end. */
export async function copyRaw(source: Readable, target: Writable | undefined): Promise<void> {
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (target && !target.write(chunk)) await waitDrain(target);
  }
}

function waitDrain(target: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      target.off('drain', done);
      target.off('close', done);
      resolve();
    };
    target.once('drain', done);
    target.once('close', done);
  });
}
