import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BatchedFileWriter } from '../../../src/lib/batchwriter.ts';

test('BatchedFileWriter writes every chunk in order, with backpressure and background syncs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-batch-'));
  try {
    const path = join(dir, 'f');
    const fh = await open(path, 'w');
    const w = new BatchedFileWriter(fh, { batchBytes: 100_000, maxInFlightBytes: 300_000, syncEveryBytes: 250_000 });
    const chunks = Array.from({ length: 200 }, (_, i) => Buffer.alloc(1000 + ((i * 7919) % 9000), i));
    let waited = 0;
    for (const c of chunks) {
      const wait = w.write(c);
      if (wait) {
        waited++;
        await wait;
      }
    }
    assert.equal(w.write(Buffer.alloc(0)), undefined);
    await w.flush();
    await fh.close();
    const whole = Buffer.concat(chunks);
    assert.equal(w.written, whole.length);
    assert.ok(readFileSync(path).equals(whole));
    assert.ok(waited > 0, 'a producer faster than the disk is asked to wait');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BatchedFileWriter reports a failed write on the next write or flush', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-batch-'));
  try {
    writeFileSync(join(dir, 'f'), '');
    const fh = await open(join(dir, 'f'), 'r'); // not writable: every writev fails
    const w = new BatchedFileWriter(fh, { batchBytes: 10 });
    w.write(Buffer.alloc(100));
    await assert.rejects(w.flush(), { code: 'EBADF' });
    await assert.rejects(Promise.resolve(w.write(Buffer.alloc(1))), { code: 'EBADF' });
    await fh.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
