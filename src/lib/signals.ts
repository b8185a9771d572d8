import { constants } from 'node:os';
import { InvalidParameter } from './errors.ts';

/** Parse "KILL", "SIGKILL", "9" → 9, as docker's signal.ParseSignal. */
export function parseSignal(s: string | number): number {
  if (typeof s === 'number') return s;
  const t = s.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n <= 0 || n > 64) throw new InvalidParameter(`Invalid signal: ${s}`);
    return n;
  }
  const name = (t.startsWith('SIG') ? t : `SIG${t}`) as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (n === undefined) throw new InvalidParameter(`Invalid signal: ${s}`);
  return n;
}
