import type { RequestContext } from './context.ts';
import { readJson } from './context.ts';
import { InvalidParameter } from '../lib/errors.ts';

const LIMIT = 1 << 20;

/**
 * The JSON body of a request that may arrive with `Upgrade:` (exec start). node hands upgraded
 * requests over as a raw socket, so the body (Content-Length bytes) is read from the bytes node
 * already took (`upgradeHead`) and then the socket; whatever follows stays for the stream.
 */
export async function readJsonMaybeUpgraded<T>(ctx: RequestContext): Promise<T | undefined> {
  const sock = ctx.upgradeSocket;
  if (!sock) return readJson<T>(ctx);
  const ct = ctx.req.headers['content-type'];
  const te = ctx.req.headers['transfer-encoding'];
  if (te && te !== 'identity') throw new InvalidParameter('a chunked body cannot be used with Upgrade');
  const length = Number(ctx.req.headers['content-length'] ?? 0);
  if (!Number.isInteger(length) || length < 0 || length > LIMIT) throw new InvalidParameter('bad Content-Length');
  if (length === 0) return undefined;
  let buf = ctx.upgradeHead ?? Buffer.alloc(0);
  while (buf.length < length) {
    const chunk = await new Promise<Buffer>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        cleanup();
        resolve(d);
      };
      const onEnd = (): void => {
        cleanup();
        reject(new InvalidParameter('connection closed before the request body was read'));
      };
      const cleanup = (): void => {
        sock.off('data', onData);
        sock.off('end', onEnd);
        sock.off('error', onEnd);
        sock.pause();
      };
      sock.on('data', onData);
      sock.on('end', onEnd);
      sock.on('error', onEnd);
      sock.resume();
    });
    buf = Buffer.concat([buf, chunk]);
  }
  ctx.upgradeHead = buf.subarray(length);
  if (ct && !/^application\/json\b/.test(ct)) throw new InvalidParameter(`Content-Type specified (${ct}) must be 'application/json'`);
  try {
    return JSON.parse(buf.subarray(0, length).toString('utf8')) as T;
  } catch (err) {
    throw new InvalidParameter(`invalid JSON: ${(err as Error).message}`);
  }
}
