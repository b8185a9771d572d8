import { join } from 'node:path';
import { InvalidParameter, NotImplemented } from '../../lib/errors.ts';
import { fromHumanSize } from '../../lib/units.ts';
import type { LogRotation } from '../../runtime/types.ts';
import type { HostConfig } from '../../types/docker.ts';
import type { ContainerRecord } from './record.ts';

export type LogConfig = HostConfig['LogConfig'];

/** The log drivers berth implements. */
export const LOG_DRIVERS = ['json-file', 'none'] as const;

// moby's jsonfilelog.ValidateLogOpt and logger.ValidateLogOpts (driver-independent options).
const JSON_FILE_OPTS = new Set(['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);
const BUILTIN_OPTS = new Set(['mode', 'max-buffer-size']);

/** Bound of conmon's output buffer for the `none` driver (only attach reads it). */
const NONE_BUFFER_MAX = 1024 * 1024;

/** dockerd's mergeAndVerifyLogConfig: the daemon's default driver (and its options, for the same driver) fill in the request. */
export function mergeLogConfig(req: Partial<LogConfig> | undefined, defaults: LogConfig): LogConfig {
  const type = req?.Type || defaults.Type;
  const config: Record<string, string> = { ...(req?.Config ?? {}) };
  if (type === defaults.Type) {
    for (const [k, v] of Object.entries(defaults.Config)) if (!(k in config)) config[k] = v;
  }
  const merged = { Type: type, Config: config };
  validateLogConfig(merged);
  return merged;
}

/** Driver and options as dockerd checks them, with its texts; the rotation settings are checked here too (dockerd does it at start). */
export function validateLogConfig(cfg: LogConfig): void {
  if (typeof cfg.Type !== 'string' || (cfg.Config !== null && typeof cfg.Config !== 'object')) throw new InvalidParameter('invalid LogConfig');
  if (cfg.Type === 'none') return;
  const opts = cfg.Config ?? {};
  const mode = opts.mode ?? '';
  if (!['', 'blocking', 'non-blocking'].includes(mode)) throw new InvalidParameter(`logger: logging mode not supported: ${mode}`);
  if ('max-buffer-size' in opts) {
    if (mode !== 'non-blocking') throw new InvalidParameter("logger: max-buffer-size option is only supported with 'mode=non-blocking'");
  }
  if (!(LOG_DRIVERS as readonly string[]).includes(cfg.Type)) throw new InvalidParameter(`logger: no log driver named '${cfg.Type}' is registered`);
  for (const [k, v] of Object.entries(opts)) {
    if (BUILTIN_OPTS.has(k)) continue;
    if (!JSON_FILE_OPTS.has(k)) throw new InvalidParameter(`unknown log opt '${k}' for json-file log driver`);
    if (typeof v !== 'string') throw new InvalidParameter(`invalid log opt '${k}': expected a string`);
  }
  for (const k of ['labels-regex', 'env-regex'] as const) {
    if (opts[k] === undefined) continue;
    try {
      new RegExp(opts[k]);
    } catch {
      throw new InvalidParameter(`error parsing ${k}: invalid regular expression: ${opts[k]}`);
    }
  }
  rotationOf(cfg);
}

/** json-file's max-size / max-file (and compress, which berth does not do). */
export function rotationOf(cfg: LogConfig): LogRotation | undefined {
  if (cfg.Type !== 'json-file') return undefined;
  const opts = cfg.Config ?? {};
  let maxSize = -1;
  if (opts['max-size'] !== undefined) {
    maxSize = fromHumanSize(opts['max-size']);
    if (maxSize <= 0) throw new InvalidParameter('max-size must be a positive number');
  }
  let maxFiles = 1;
  if (opts['max-file'] !== undefined) {
    if (!/^[+-]?\d+$/.test(opts['max-file'])) throw new InvalidParameter(`strconv.Atoi: parsing "${opts['max-file']}": invalid syntax`);
    maxFiles = Number(opts['max-file']);
    if (maxFiles < 1) throw new InvalidParameter('max-file cannot be less than 1');
  }
  if (opts.compress !== undefined) {
    const c = parseBool(opts.compress);
    if (c && (maxFiles === 1 || maxSize === -1)) throw new InvalidParameter('compress cannot be true when max-file is less than 2 or max-size is not set');
    if (c) throw new InvalidParameter('compress=true is not supported by berth: rotated json-file logs stay uncompressed');
  }
  return maxSize > 0 ? { maxSize, maxFiles } : undefined;
}

function parseBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new InvalidParameter(`strconv.ParseBool: parsing "${s}": invalid syntax`);
}

/** Where conmon writes a container's output, whether `logs` may read it, and its bounds. */
export interface OutputSettings {
  path: string;
  /** False for the `none` driver: the file only feeds attach. */
  readable: boolean;
  rotation?: LogRotation;
  sizeMax?: number;
}

export function outputSettings(rec: ContainerRecord, paths: { dataDir: string; logPath: string }): OutputSettings {
  const cfg = rec.hostConfig.LogConfig;
  if (cfg?.Type === 'none') return { path: join(paths.dataDir, 'attach.log'), readable: false, sizeMax: NONE_BUFFER_MAX };
  return { path: paths.logPath, readable: true, rotation: cfg ? rotationOf(cfg) : undefined };
}

/** `logs` of a container whose driver keeps no log: dockerd's ErrReadLogsNotSupported (501). */
export function assertReadable(out: OutputSettings): void {
  if (!out.readable) throw new NotImplemented('configured logging driver does not support reading');
}

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** The log's extra attributes (labels, env, their regexes, tag), as `logs --details` prints them: `k=v,k2=v2`. */
export function logDetails(rec: ContainerRecord): string {
  const opts = rec.hostConfig.LogConfig?.Config ?? {};
  const labels = rec.config.Labels ?? {};
  const env = new Map<string, string>();
  for (const e of rec.config.Env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) env.set(e.slice(0, i), e.slice(i + 1));
  }
  const extra = new Map<string, string>();
  for (const l of opts.labels ? opts.labels.split(',') : []) if (l in labels) extra.set(l, labels[l]);
  // moby only honours labels-regex together with labels.
  if (opts['labels-regex'] && opts.labels) {
    const re = new RegExp(opts['labels-regex']);
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) extra.set(k, v);
  }
  for (const k of opts.env ? opts.env.split(',') : []) {
    const v = env.get(k);
    if (v !== undefined) extra.set(k, v);
  }
  if (opts['env-regex']) {
    const re = new RegExp(opts['env-regex']);
    for (const [k, v] of env) if (re.test(k)) extra.set(k, v);
  }
  if (opts.tag) extra.set('tag', renderTag(opts.tag, rec));
  return [...extra.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`)
    .join(',');
}

/** The log tag's template fields (loggerutils.ParseLogTag's common ones); other text is kept. */
function renderTag(tag: string, rec: ContainerRecord): string {
  const fields: Record<string, string> = {
    ID: rec.id.slice(0, 12),
    FullID: rec.id,
    Name: rec.name,
    ImageID: rec.imageId.replace(/^sha256:/, '').slice(0, 12),
    ImageFullID: rec.imageId,
    ImageName: rec.imageRef,
    DaemonName: 'berth',
  };
  return tag.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (m, f: string) => fields[f] ?? m);
}
