// Docker's detach keys: "ctrl-p,ctrl-q" (default), "a,ctrl-b", … (moby's term.ToBytes).
import { InvalidParameter } from './errors.ts';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" → [0x10, 0x11]. `ctrl-@`..`ctrl-_` and single characters, as docker accepts. */
export function parseDetachKeys(spec: string): number[] {
  const out: number[] = [];
  for (const raw of spec.split(',')) {
    const key = raw.trim().toLowerCase();
    if (key.length === 1) {
      out.push(key.charCodeAt(0));
    } else if (key.startsWith('ctrl-') && key.length === 6) {
      const c = key.charCodeAt(5);
      if (c >= 0x61 && c <= 0x7a) out.push(c - 0x60);
      else if (key[5] === '@') out.push(0);
      else if (key[5] === '[') out.push(27);
      else if (key[5] === '\\') out.push(28);
      else if (key[5] === ']') out.push(29);
      else if (key[5] === '^') out.push(30);
      else if (key[5] === '_') out.push(31);
      else throw new InvalidParameter(`Unknown character: '${key}'`);
    } else {
      throw new InvalidParameter(`Unknown character: '${key}'`);
    }
  }
  return out;
}

/**
 * Watches an input stream for the detach sequence. `feed` returns the bytes to pass on and
 * whether the sequence was completed (then the caller detaches). A partial match is held back
 * and passed on when the next byte breaks it, as docker's escape proxy does.
 */
export class DetachKeyFilter {
  private readonly keys: number[];
  private matched = 0;

  constructor(keys: number[]) {
    this.keys = keys;
  }

  feed(chunk: Buffer): { pass: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { pass: chunk, detach: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      // Mismatch: the held-back prefix was real input.
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]);
      this.matched = 0;
      if (b === this.keys[0]) this.matched = 1;
      else out.push(b);
    }
    return { pass: Buffer.from(out), detach: false };
  }
}
