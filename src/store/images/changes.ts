import { InvalidParameter } from '../../lib/errors.ts';
import type { ImageRunConfig } from '../../types/oci.ts';

// Docker's `changes` (import and commit): Dockerfile lines that edit an image config. A minimal
// parser for the instructions dockerd allows there; full Dockerfile semantics live in builder/.

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/** `["a","b"]` → array; anything else → undefined (shell form). */
function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: dockerd falls back to the shell form too
  }
  return undefined;
}

/** Split words honouring double and single quotes (enough for ENV/LABEL key=value pairs). */
function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: '"' | "'" | '' = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** ENV/LABEL: `k=v k2="v 2"` or the legacy `k v w` (one pair, value = rest of the line). */
function keyValues(instr: string, rest: string): Array<[string, string]> {
  const words = splitWords(rest);
  if (words.length === 0) throw new InvalidParameter(`${instr} requires at least one argument`);
  if (!words[0].includes('=')) {
    const m = /^\s*(\S+)\s+(.*)$/.exec(rest);
    if (!m) throw new InvalidParameter(`${instr} must have two arguments`);
    return [[m[1], m[2].trim()]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new InvalidParameter(`${instr} names can not be blank`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

const HEALTH_FLAGS: Record<string, 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval'> = {
  interval: 'Interval',
  timeout: 'Timeout',
  'start-period': 'StartPeriod',
  'start-interval': 'StartInterval',
};

/** Go duration ("30s", "1m30s", "500ms") in nanoseconds. */
function goDurationNs(flag: string, s: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += parseFloat(m[1]) * units[m[2]];
    consumed += m[0].length;
  }
  if (s !== '0' && (consumed !== s.length || consumed === 0)) throw new InvalidParameter(`time: invalid duration "${s}" for --${flag}`);
  return Math.round(total);
}

/** `HEALTHCHECK [--interval=… --timeout=… --start-period=… --start-interval=… --retries=N] CMD …` or `HEALTHCHECK NONE`. */
function parseHealthcheck(rest: string): NonNullable<ImageRunConfig['Healthcheck']> {
  let s = rest;
  const hc: NonNullable<ImageRunConfig['Healthcheck']> = {};
  for (let m = /^--([a-z-]+)=(\S*)\s*/.exec(s); m; m = /^--([a-z-]+)=(\S*)\s*/.exec(s)) {
    const [all, flag, value] = m;
    s = s.slice(all.length);
    if (flag === 'retries') {
      if (!/^\d+$/.test(value)) throw new InvalidParameter(`invalid --retries value: ${value}`);
      hc.Retries = Number(value);
    } else if (HEALTH_FLAGS[flag]) {
      hc[HEALTH_FLAGS[flag]] = goDurationNs(flag, value);
    } else {
      throw new InvalidParameter(`Unknown flag: ${flag}`);
    }
  }
  const m = /^(\S+)\s*(.*)$/s.exec(s.trim());
  const kind = m?.[1].toUpperCase();
  if (kind === 'NONE') {
    if (m![2].trim() !== '') throw new InvalidParameter('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD' || !m![2].trim()) throw new InvalidParameter('Unknown type "' + (m?.[1] ?? '') + '" in HEALTHCHECK (try CMD)');
  const cmd = m![2].trim();
  const args = jsonArray(cmd);
  return { ...hc, Test: args ? ['CMD', ...args] : ['CMD-SHELL', cmd] };
}

/** Apply `changes` lines to a run config (a copy is returned). */
export function applyChanges(base: ImageRunConfig, changes: readonly string[]): ImageRunConfig {
  const cfg: ImageRunConfig = structuredClone(base);
  for (const raw of changes) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(.*)$/s.exec(line)!;
    const instr = m[1].toUpperCase();
    const rest = m[2].trim();
    if (!ALLOWED.includes(instr)) throw new InvalidParameter(`${m[1].toLowerCase()} is not a valid change command`);
    switch (instr) {
      case 'CMD':
        cfg.Cmd = jsonArray(rest) ?? ['/bin/sh', '-c', rest];
        break;
      case 'ENTRYPOINT':
        cfg.Entrypoint = jsonArray(rest) ?? (rest === '' ? null : ['/bin/sh', '-c', rest]);
        break;
      case 'ENV': {
        const env = cfg.Env ?? [];
        for (const [k, v] of keyValues('ENV', rest)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'LABEL':
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(keyValues('LABEL', rest)) };
        break;
      case 'EXPOSE': {
        const ports = cfg.ExposedPorts ?? {};
        for (const p of splitWords(rest)) ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        cfg.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = cfg.Volumes ?? {};
        for (const v of jsonArray(rest) ?? splitWords(rest)) vols[v] = {};
        cfg.Volumes = vols;
        break;
      }
      case 'WORKDIR':
        cfg.WorkingDir = rest;
        break;
      case 'USER':
        cfg.User = rest;
        break;
      case 'STOPSIGNAL':
        cfg.StopSignal = rest;
        break;
      case 'HEALTHCHECK':
        cfg.Healthcheck = parseHealthcheck(rest);
        break;
      case 'ONBUILD':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
        break;
    }
  }
  return cfg;
}
