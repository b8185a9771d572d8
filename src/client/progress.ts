// JSON-lines progress streams (pull, push, build, load, import): each line is a JSONMessage.
import type { JSONMessage } from '../types/docker.ts';
import { jsonLines } from './transport.ts';

export type ProgressCallback = (message: JSONMessage) => void;

/** A failure reported inside a 200 stream (errorDetail); `code` is build's exit code. */
export class StreamError extends Error {
  readonly code: number | undefined;
  constructor(message: string, code?: number) {
    super(message);
    this.name = 'StreamError';
    this.code = code;
  }
}

/** Read every message, forward it, and reject on the first in-band error. Resolves with the last one. */
export async function consumeProgress(
  stream: AsyncIterable<Buffer>,
  onProgress?: ProgressCallback,
): Promise<JSONMessage | undefined> {
  let last: JSONMessage | undefined;
  for await (const message of jsonLines<JSONMessage>(stream)) {
    if (message.errorDetail || message.error) {
      throw new StreamError(message.errorDetail?.message ?? message.error ?? 'unknown error', message.errorDetail?.code);
    }
    onProgress?.(message);
    last = message;
  }
  return last;
}
