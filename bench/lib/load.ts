// Closed-loop HTTP load over a UNIX socket: N keep-alive clients, each sending its next request as
// soon as the previous response has been read, for a fixed duration.
import { Agent, request as httpRequest } from 'node:http';
import { api } from './http.ts';
import { now, percentile, rssKb, sleep, type ProcInfo } from './util.ts';

export interface LoadResult {
  path: string;
  clients: number;
  seconds: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  bytesPerResponse: number;
}

function get(agent: Agent, socketPath: string, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method: 'GET', path, agent, timeout: 10_000 }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function loadTest(socketPath: string, path: string, clients = 8, durationMs = 5_000, warmupMs = 500): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients, maxFreeSockets: clients });
  let measuring = false;
  let stop = false;
  let requests = 0;
  let errors = 0;
  let bytes = 0;
  const lat: number[] = [];
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t0 = now();
      try {
        const r = await get(agent, socketPath, path);
        if (!measuring) continue;
        if (r.status !== 200) errors++;
        else {
          requests++;
          bytes += r.bytes;
          if (lat.length < 200_000) lat.push(now() - t0);
        }
      } catch {
        if (measuring) errors++;
        await sleep(1);
      }
    }
  };
  const workers = Array.from({ length: clients }, () => worker());
  await sleep(warmupMs);
  measuring = true;
  const t0 = now();
  await sleep(durationMs);
  measuring = false;
  const secs = (now() - t0) / 1000;
  stop = true;
  await Promise.all(workers);
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { path, clients, seconds: secs, requests, errors, rps: requests / secs, p50: percentile(lat, 50), p99: percentile(lat, 99), bytesPerResponse: requests ? Math.round(bytes / requests) : 0 };
}

/** Create and start n `sleep 3600` containers through the API; returns their IDs. */
export async function startSleepers(socket: string, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await api(socket, 'POST', `${prefix}/containers/create?name=bench-sleep-${i}`, {
      body: { Image: 'busybox', Cmd: ['sleep', '3600'], Labels: { 'berth.bench': '1' }, HostConfig: { NetworkMode: 'default' } },
    });
    if (c.status !== 201) throw new Error(`create sleeper ${i}: ${c.status} ${c.body}`);
    const id = (JSON.parse(c.body) as { Id: string }).Id;
    ids.push(id);
    const s = await api(socket, 'POST', `${prefix}/containers/${id}/start`);
    if (s.status !== 204) throw new Error(`start sleeper ${i}: ${s.status} ${s.body}`);
  }
  return ids;
}

export async function removeContainers(socket: string, prefix: string, ids: string[]): Promise<void> {
  for (const id of ids) await api(socket, 'DELETE', `${prefix}/containers/${id}?force=1`, { timeoutMs: 30_000 }).catch(() => undefined);
}

export interface Footprint {
  totalMb: number;
  byRole: Record<string, { count: number; mb: number }>;
}

export function footprint(procs: Array<ProcInfo & { role: string }>): Footprint {
  const byRole: Record<string, { count: number; mb: number }> = {};
  let total = 0;
  for (const p of procs) {
    const kb = rssKb(p.pid);
    if (!kb) continue;
    total += kb;
    const r = (byRole[p.role] ??= { count: 0, mb: 0 });
    r.count++;
    r.mb += kb / 1024;
  }
  return { totalMb: total / 1024, byRole };
}
