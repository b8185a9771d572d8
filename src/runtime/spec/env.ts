// The environment Docker gives a container process (moby's CreateDaemonEnvironment + HOME).

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Replace entries whose key matches (KEY=… or a bare KEY), append the rest: Docker's merge. */
export function mergeEnv(base: readonly string[], overrides: readonly string[] | null | undefined): string[] {
  const out = [...base];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(envKey(e), i));
  for (const e of overrides ?? []) {
    const k = envKey(e);
    const at = index.get(k);
    if (at === undefined) {
      index.set(k, out.length);
      out.push(e);
    } else out[at] = e;
  }
  return out;
}

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

export interface ContainerEnvInput {
  /** Image Env followed by the container's Env (or already merged). */
  env: readonly string[] | null | undefined;
  /** Full hostname (Hostname, plus `.Domainname` when set). */
  hostname: string;
  tty: boolean;
  /** The user's home from passwd; HOME is only added when env does not set it. */
  home: string;
}

/** PATH, HOSTNAME, TERM (tty only), then the image/container env on top, then HOME if unset. */
export function containerEnv(input: ContainerEnvInput): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${input.hostname}`];
  if (input.tty) base.push('TERM=xterm');
  const env = mergeEnv(base, input.env);
  if (!env.some((e) => envKey(e) === 'HOME')) env.push(`HOME=${input.home || '/'}`);
  return env;
}
