// ADD <url>: the daemon downloads the file (as dockerd does). Redirects are followed; the
// Last-Modified header becomes the file's mtime.
import { InvalidParameter } from '../../lib/errors.ts';

const MAX_DOWNLOAD = 512 * 1024 * 1024;

export async function fetchForAdd(url: string): Promise<{ data: Buffer; lastModified?: Date }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    throw new InvalidParameter(`failed to GET ${url}: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) throw new InvalidParameter(`failed to GET ${url} with status ${res.status} ${res.statusText}`);
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > MAX_DOWNLOAD) throw new InvalidParameter(`${url} is too large (${len} bytes)`);
  const data = Buffer.from(await res.arrayBuffer());
  const lm = res.headers.get('last-modified');
  return { data, lastModified: lm ? new Date(lm) : undefined };
}
