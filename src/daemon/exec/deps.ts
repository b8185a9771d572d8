import type { ContainerDeps } from '../containers/deps.ts';
import { eventAttributes } from '../containers/deps.ts';
import type { ContainerRecord } from '../containers/record.ts';
import type { ExecRecord, ExecStore } from './store.ts';

/** What the exec services need: the container services' dependencies plus the exec instances. */
export interface ExecDeps extends ContainerDeps {
  execs: ExecStore;
}

/** `exec_create: sh -c exit 5`: dockerd puts the command into the event's action. */
export function publishExecEvent(deps: ExecDeps, ctr: ContainerRecord, exec: ExecRecord, action: 'exec_create' | 'exec_start' | 'exec_die', extra: Record<string, string> = {}): void {
  const command = [exec.entrypoint, ...exec.args].join(' ');
  const name = action === 'exec_die' ? action : `${action}: ${command}`;
  deps.events.publish('container', name, ctr.id, eventAttributes(ctr, { execID: exec.id, ...extra }));
}
