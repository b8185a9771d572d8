// The OCI process of an exec, derived from the container's own process (rlimits, capabilities,
// no-new-privileges stay as the container has them), as moby's execSetPlatformOpt does.
import type { RuntimeSpec } from '../../types/oci.ts';
import { ALL_CAPABILITIES } from './caps.ts';
import type { ResolvedUser } from './user.ts';

export interface ExecProcessInput {
  /** The container's process, from its bundle's config.json. */
  base: RuntimeSpec['process'];
  args: string[];
  /** The complete environment (container env with the exec's Env on top). */
  env: string[];
  cwd: string;
  user: ResolvedUser;
  tty: boolean;
  /** exec --privileged: every capability. */
  privileged: boolean;
  /** The capabilities the host can give (privileged gets these, not all there are). */
  boundingCaps?: readonly string[];
  /** [height, width] of the terminal at start (exec -t). */
  consoleSize?: readonly number[] | null;
}

export function execProcess(input: ExecProcessInput): RuntimeSpec['process'] {
  const p: RuntimeSpec['process'] = {
    ...input.base,
    terminal: input.tty,
    args: [...input.args],
    env: [...input.env],
    cwd: input.cwd || '/',
    user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids.length ? { additionalGids: [...input.user.additionalGids] } : {}) },
  };
  delete p.consoleSize;
  if (input.tty && input.consoleSize && input.consoleSize.length === 2 && input.consoleSize[0] > 0 && input.consoleSize[1] > 0) {
    p.consoleSize = { height: input.consoleSize[0], width: input.consoleSize[1] };
  }
  if (input.privileged) {
    const all = ALL_CAPABILITIES.filter((c) => !input.boundingCaps || input.boundingCaps.includes(c));
    p.capabilities = { bounding: all, effective: [...all], permitted: [...all] };
  }
  return p;
}
