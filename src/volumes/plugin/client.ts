// The plugin wire protocol: POST /<Method> with a JSON body, JSON answers, errors in `Err`.
import type { IncomingMessage } from 'node:http';
import { SystemError, Unavailable } from '../../lib/errors.ts';
import type { PluginAddress } from './discovery.ts';

const { request } = process.getBuiltinModule('node:http');

export const PLUGIN_MEDIA_TYPE = 'application/vnd.docker.plugins.v1.2+json';

export interface PluginClientOptions {
  address: PluginAddress;
  /** Per-call timeout (Docker's default is 30 s for volume calls). */
  timeoutMs?: number;
}

export class PluginClient {
  readonly address: PluginAddress;
  private readonly timeoutMs: number;

  constructor(opts: PluginClientOptions) {
    this.address = opts.address;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Call `method` and return its JSON answer; a non-empty `Err` becomes an error. */
  async call<T extends { Err?: string }>(method: string, body: unknown = {}): Promise<T> {
    const data = JSON.stringify(body);
    const where = 'socketPath' in this.address ? { socketPath: this.address.socketPath } : { host: this.address.host, port: this.address.port };
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        { ...where, method: 'POST', path: `/${method}`, headers: { Accept: PLUGIN_MEDIA_TYPE, 'Content-Type': PLUGIN_MEDIA_TYPE, 'Content-Length': Buffer.byteLength(data) }, timeout: this.timeoutMs },
        (r: IncomingMessage) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          r.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(new Unavailable(`error while calling plugin ${method}: ${e.message}`, { cause: e })));
      req.end(data);
    });
    let out: T;
    try {
      out = (res.text ? JSON.parse(res.text) : {}) as T;
    } catch {
      throw new SystemError(`plugin ${method}: invalid answer (HTTP ${res.status}): ${res.text.slice(0, 200)}`);
    }
    if (out.Err) throw new SystemError(out.Err);
    if (res.status !== 200) throw new SystemError(`plugin ${method}: HTTP ${res.status}: ${res.text.slice(0, 200)}`);
    return out;
  }
}
