import FindMyWay from 'find-my-way';
import type { Handler } from './context.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/** Routes keyed by method and unversioned path; handlers receive their dependencies by closure. */
export class Router {
  private readonly fmw = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 1024 });

  on(method: Method | Method[], path: string, handler: Handler): void {
    for (const m of Array.isArray(method) ? method : [method]) {
      this.fmw.on(m, path, () => undefined, { handler });
    }
  }

  find(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    const found = this.fmw.find(method as Method, path);
    if (!found) return undefined;
    const store = found.store as { handler: Handler };
    return { handler: store.handler, params: found.params as Record<string, string> };
  }
}
