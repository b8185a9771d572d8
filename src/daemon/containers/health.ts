// Health checks as moby's daemon/health.go: a probe (CMD or CMD-SHELL) runs in the container every
// interval; exit 0 is healthy, anything else a failure; `retries` failures in a row (not counted
// during the start period while still starting) make it unhealthy. State.Health keeps the last 5
// results; every status change is a `health_status: <status>` event.
import { InvalidParameter } from '../../lib/errors.ts';
import { log } from '../../lib/logger.ts';
import type { HealthConfig, HealthcheckResult } from '../../types/docker.ts';
import { nowRfc3339Nano, type ContainerRecord } from './record.ts';

const NS_PER_MS = 1_000_000;
export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_START_INTERVAL_MS = 5_000;
export const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT = 4096;

export interface ProbeRequest {
  id: string;
  cmd: string[];
  user: string;
  workingDir: string;
  /** Kill the probe after this long (then `timedOut`). */
  timeoutMs: number;
}

export interface ProbeResult {
  exitCode: number;
  output: string;
  timedOut: boolean;
}

/** Runs a command in a running container (the exec service). Rejects if it could not be run. */
export type ProbeRunner = (req: ProbeRequest) => Promise<ProbeResult>;

/** What the monitor needs from the daemon (kept narrow: no import of the container services). */
export interface HealthHost {
  get(id: string): ContainerRecord | undefined;
  save(rec: ContainerRecord): void;
  /** Publish a container event. */
  publish(rec: ContainerRecord, action: string): void;
  probe: ProbeRunner;
}

/** The probe command of a health config, or undefined for none (no config, empty, NONE, unknown type). */
export function probeCommand(hc: HealthConfig | null | undefined): string[] | undefined {
  const test = hc?.Test;
  if (!test || test.length === 0) return undefined;
  if (test[0] === 'CMD' && test.length > 1) return test.slice(1);
  if (test[0] === 'CMD-SHELL' && test.length > 1) return ['/bin/sh', '-c', ...test.slice(1)];
  return undefined;
}

/** moby's timeoutWithDefault over nanoseconds. */
function ms(ns: number | undefined, def: number): number {
  return ns ? ns / NS_PER_MS : def;
}

/** Go's time.Duration.String for whole milliseconds ("30s", "500ms", "1m30s"). */
export function goDuration(totalMs: number): string {
  if (totalMs === 0) return '0s';
  if (totalMs < 1000) return `${totalMs}ms`;
  const h = Math.floor(totalMs / 3_600_000);
  const m = Math.floor((totalMs % 3_600_000) / 60_000);
  const s = (totalMs % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** Apply one probe result to the container's health (moby's handleProbeResult); returns the new status if it changed. */
export function applyProbeResult(rec: ContainerRecord, result: HealthcheckResult): string | undefined {
  const h = rec.state.health;
  const hc = rec.config.Healthcheck;
  if (!h || !hc) return undefined;
  const retries = hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES;
  const old = h.Status;
  h.Log = [...h.Log, result].slice(-MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) {
    h.FailingStreak = 0;
    h.Status = 'healthy';
  } else {
    // Still starting within the start period: failures do not count yet.
    const inStartPeriod = h.Status === 'starting' && Date.parse(result.Start) - Date.parse(rec.state.startedAt) < ms(hc.StartPeriod, 0);
    if (!inStartPeriod) {
      h.FailingStreak++;
      if (h.FailingStreak >= retries) h.Status = 'unhealthy';
    }
  }
  return h.Status !== old ? h.Status : undefined;
}

interface Run {
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

/** One probe loop per running container with a health check. */
export class HealthMonitor {
  private readonly host: HealthHost;
  private readonly runs = new Map<string, Run>();

  constructor(host: HealthHost) {
    this.host = host;
  }

  /** A container (re)started or was restored running: status `starting`, streak 0, probes begin. */
  init(rec: ContainerRecord): void {
    this.stop(rec.id);
    if (!probeCommand(rec.config.Healthcheck)) return;
    rec.state.health = { Status: 'starting', FailingStreak: 0, Log: rec.state.health?.Log ?? [] };
    this.resume(rec);
  }

  /** Probe again (after unpause); a no-op without a health check or when already probing. */
  resume(rec: ContainerRecord): void {
    if (this.runs.has(rec.id) || !rec.state.health || !probeCommand(rec.config.Healthcheck)) return;
    const run: Run = { stopped: false };
    this.runs.set(rec.id, run);
    this.schedule(rec.id, run);
  }

  /** The container stopped, paused or is removed: no more probes (the status stays as it was). */
  stop(id: string): void {
    const run = this.runs.get(id);
    if (!run) return;
    run.stopped = true;
    if (run.timer) clearTimeout(run.timer);
    this.runs.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.runs.keys()]) this.stop(id);
  }

  /** The next probe's delay (moby's getInterval: the start interval while starting in the start period). */
  private interval(rec: ContainerRecord): number {
    const hc = rec.config.Healthcheck ?? {};
    const probeInterval = ms(hc.Interval, DEFAULT_INTERVAL_MS);
    const startPeriod = ms(hc.StartPeriod, 0);
    const elapsed = Date.now() - Date.parse(rec.state.startedAt);
    if (elapsed >= startPeriod) return probeInterval;
    const remaining = startPeriod - elapsed;
    if (remaining < probeInterval) return remaining;
    return rec.state.health?.Status === 'starting' ? ms(hc.StartInterval, DEFAULT_START_INTERVAL_MS) : probeInterval;
  }

  private schedule(id: string, run: Run): void {
    const rec = this.host.get(id);
    if (!rec || run.stopped) return;
    run.timer = setTimeout(() => void this.probe(id, run), this.interval(rec));
    run.timer.unref();
  }

  private async probe(id: string, run: Run): Promise<void> {
    const rec = this.host.get(id);
    const cmd = probeCommand(rec?.config.Healthcheck);
    if (!rec || !cmd || run.stopped) return;
    const timeoutMs = ms(rec.config.Healthcheck?.Timeout, DEFAULT_TIMEOUT_MS);
    const start = nowRfc3339Nano();
    let result: HealthcheckResult;
    try {
      const r = await this.host.probe({ id, cmd, user: rec.config.User, workingDir: rec.config.WorkingDir, timeoutMs });
      const out = r.output.length > MAX_OUTPUT ? `${r.output.slice(0, MAX_OUTPUT)}...` : r.output;
      result = r.timedOut
        ? { Start: start, End: nowRfc3339Nano(), ExitCode: -1, Output: `Health check exceeded timeout (${goDuration(timeoutMs)})${out ? `: ${out}` : ''}` }
        : { Start: start, End: nowRfc3339Nano(), ExitCode: r.exitCode, Output: out };
    } catch (err) {
      log.warn('health check failed to run', { id, error: err });
      result = { Start: start, End: nowRfc3339Nano(), ExitCode: -1, Output: err instanceof Error ? err.message : String(err) };
    }
    // Stopped while probing (exit, pause, rm): the result is dropped, as moby does.
    if (run.stopped || this.runs.get(id) !== run) return;
    const changed = applyProbeResult(rec, result);
    if (changed) {
      this.host.save(rec);
      this.host.publish(rec, `health_status: ${changed}`);
    }
    this.schedule(id, run);
  }
}

/** dockerd's merge of the request's health check over the image's: unset fields come from the image. */
export function mergeHealthcheck(req: HealthConfig | null | undefined, img: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!req) return img ?? undefined;
  if (!img) return req;
  return {
    ...req,
    Test: req.Test && req.Test.length > 0 ? req.Test : img.Test,
    Interval: req.Interval || img.Interval,
    Timeout: req.Timeout || img.Timeout,
    StartPeriod: req.StartPeriod || img.StartPeriod,
    StartInterval: req.StartInterval || img.StartInterval,
    Retries: req.Retries || img.Retries,
  };
}

/** dockerd's checks of a create request's health check (durations are 0 or at least 1 ms). */
export function validateHealthcheck(hc: HealthConfig | null | undefined): void {
  if (!hc) return;
  const min = (v: number | undefined, name: string): void => {
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidParameter(`invalid ${name} in Healthcheck`);
    if (v !== 0 && v < NS_PER_MS) throw new InvalidParameter(`${name} in Healthcheck cannot be less than 1ms`);
  };
  min(hc.Interval, 'Interval');
  min(hc.Timeout, 'Timeout');
  if ((hc.Retries ?? 0) < 0) throw new InvalidParameter('Retries in Healthcheck cannot be negative');
  min(hc.StartPeriod, 'StartPeriod');
  min(hc.StartInterval, 'StartInterval');
  if (hc.Test !== undefined && hc.Test !== null && !(Array.isArray(hc.Test) && hc.Test.every((t) => typeof t === 'string'))) {
    throw new InvalidParameter('invalid Healthcheck.Test: expected an array of strings');
  }
}
