import { InvalidParameter } from '../lib/errors.ts';
import type { Handler } from './context.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

interface Node {
  statics: Map<string, Node>;
  param?: { name: string; node: Node };
  wildcard?: Map<string, Handler>;
  handlers: Map<string, Handler>;
}

function newNode(): Node {
  return { statics: new Map(), handlers: new Map() };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidParameter(`invalid path segment: ${segment}`);
  }
}

/**
 * Routes keyed by method and unversioned path: `/containers/:id/json`, and a trailing `*` that
 * takes the rest of the path (image names contain slashes). Static segments win over
 * parameters, parameters over the wildcard. Hand-written instead of find-my-way: the Docker API
 * needs only this, and the library cost ~6 MB of berthd's resident memory (bench/RESULTS.md).
 */
export class Router {
  private readonly root = newNode();

  on(method: Method | Method[], path: string, handler: Handler): void {
    const methods = Array.isArray(method) ? method : [method];
    let node = this.root;
    for (const seg of path.split('/').filter(Boolean)) {
      if (seg === '*') {
        node.wildcard ??= new Map();
        for (const m of methods) node.wildcard.set(m, handler);
        return;
      }
      if (seg.startsWith(':')) {
        node.param ??= { name: seg.slice(1), node: newNode() };
        node = node.param.node;
      } else {
        let next = node.statics.get(seg);
        if (!next) node.statics.set(seg, (next = newNode()));
        node = next;
      }
    }
    for (const m of methods) node.handlers.set(m, handler);
  }

  find(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    const segments = path.split('/').filter(Boolean);
    const params: Record<string, string> = {};
    const match = (node: Node, i: number): Handler | undefined => {
      if (i === segments.length) return node.handlers.get(method);
      const seg = segments[i];
      const next = node.statics.get(seg);
      const viaStatic = next && match(next, i + 1);
      if (viaStatic) return viaStatic;
      if (node.param) {
        const viaParam = match(node.param.node, i + 1);
        if (viaParam) {
          params[node.param.name] = decode(seg);
          return viaParam;
        }
      }
      const wild = node.wildcard?.get(method);
      if (wild) {
        params['*'] = segments.slice(i).map(decode).join('/');
        return wild;
      }
      return undefined;
    };
    const handler = match(this.root, 0);
    return handler ? { handler, params } : undefined;
  }
}
