// Reading a k8s-file log across rotated files, and berthd's rotation of conmon's log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, appendFile, rename, rm, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLog, type LogEntry } from '../../../src/runtime/conmon/logfile.ts';
import { LogRotator, shiftFiles, hardCap } from '../../../src/runtime/conmon/logrotate.ts';

async function collect(it: AsyncIterable<LogEntry>): Promise<string> {
  let out = '';
  for await (const e of it) out += e.data.toString();
  return out;
}

const line = (n: number): string => `2026-11-22T16:19:40.${String(n).padStart(9, '0')}+00:00 stdout F l${n}\n`;
const lines = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');
const text = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => `l${from + i}\n`).join('');

test('reads rotated files oldest first; tail spans files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'));
  const p = join(dir, 'c.log');
  await writeFile(`${p}.2`, lines(1, 3));
  await writeFile(`${p}.1`, lines(4, 6));
  await writeFile(p, lines(7, 8));
  assert.equal(await collect(readLog(p)), text(1, 8));
  assert.equal(await collect(readLog(p, { tail: 2 })), text(7, 8));
  assert.equal(await collect(readLog(p, { tail: 4 })), text(5, 8));
  assert.equal(await collect(readLog(p, { tail: 100 })), text(1, 8));
  assert.equal(await collect(readLog(p, { tail: 0 })), '');
  // No live file (rotated away, not reopened yet).
  await rm(p);
  assert.equal(await collect(readLog(p, { tail: 4 })), text(3, 6));
  await rm(dir, { recursive: true });
});

test('follow switches to the new file after a rotation, losing nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'));
  const p = join(dir, 'c.log');
  await writeFile(p, lines(1, 2));
  const drain = new AbortController();
  const reading = collect(readLog(p, { follow: true, drainSignal: drain.signal, pollMs: 20 }));
  await new Promise((r) => setTimeout(r, 50));
  // The writer keeps writing to the renamed file until it reopens (as conmon does).
  await rename(p, `${p}.1`);
  await appendFile(`${p}.1`, lines(3, 4));
  await new Promise((r) => setTimeout(r, 50));
  await writeFile(p, lines(5, 6));
  await new Promise((r) => setTimeout(r, 100));
  await appendFile(p, lines(7, 7));
  await new Promise((r) => setTimeout(r, 50));
  drain.abort();
  assert.equal(await reading, text(1, 7));
  await rm(dir, { recursive: true });
});

test('shiftFiles keeps max-file files in all', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'));
  const p = join(dir, 'c.log');
  for (let i = 0; i < 5; i++) {
    await writeFile(p, `gen${i}`);
    await shiftFiles(p, 3);
  }
  assert.deepEqual((await readdir(dir)).sort(), ['c.log.1', 'c.log.2']);
  assert.equal((await stat(`${p}.1`)).size, 4);
  assert.ok(hardCap({ maxSize: 1000, maxFiles: 2 }) > 1000);
  await rm(dir, { recursive: true });
});

test('the rotator rotates past max-size and asks the writer to reopen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'));
  const p = join(dir, 'c.log');
  let reopened = 0;
  const r = new LogRotator({ path: p, maxSize: 100, maxFiles: 2, checkMs: 5, reopen: async () => void (reopened++, await writeFile(p, '')) });
  r.start();
  await writeFile(p, 'x'.repeat(50));
  await new Promise((res) => setTimeout(res, 60));
  assert.equal(reopened, 0);
  await appendFile(p, 'x'.repeat(60));
  for (let i = 0; i < 100 && reopened === 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(reopened, 1);
  assert.equal((await stat(`${p}.1`)).size, 110);
  assert.equal((await stat(p)).size, 0);
  r.stop();
  await rm(dir, { recursive: true });
});
