import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Read an exit file; retries briefly when it exists but is still empty (being written). */
export async function readExitFile(path: string): Promise<number | undefined> {
  for (let i = 0; i < 20; i++) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const n = Number.parseInt(text.trim(), 10);
    if (Number.isFinite(n)) return n;
    await sleep(5);
  }
  return undefined;
}
