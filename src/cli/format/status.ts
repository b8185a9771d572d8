// Container status texts as docker shows them ("Up 3 seconds", "Exited (0) 5 seconds ago").
// The daemon sends them in ContainerSummary.Status; this rebuilds one from inspect's State.
import { humanDuration } from '../../lib/units.ts';
import type { ContainerState } from '../../types/docker.ts';

export function containerStatusText(state: ContainerState, now = Date.now()): string {
  const since = (iso: string): string => humanDuration(Math.max(0, now - Date.parse(iso)));
  if (state.Running) {
    if (state.Paused) return `Up ${since(state.StartedAt)} (Paused)`;
    if (state.Restarting) return `Restarting (${state.ExitCode}) ${since(state.FinishedAt)} ago`;
    const health = state.Health?.Status;
    return `Up ${since(state.StartedAt)}${health ? ` (${health === 'starting' ? 'health: starting' : health})` : ''}`;
  }
  if (state.Status === 'removing') return 'Removal In Progress';
  if (state.Dead) return 'Dead';
  if (state.Status === 'created' || !state.FinishedAt || state.FinishedAt.startsWith('0001-')) return 'Created';
  return `Exited (${state.ExitCode}) ${since(state.FinishedAt)} ago`;
}

/** Go's strconv.Quote for the COMMAND column. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
}

/** Cut to `max` code points, the last one replaced by "…" (docker's formatter.Ellipsis). */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return chars.slice(0, max - 1).join('') + '…';
}
