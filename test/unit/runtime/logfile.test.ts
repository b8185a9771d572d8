import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, appendFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLog, parseLogLine, parseTimestamp, formatTimestamp, type LogEntry } from '../../../src/runtime/conmon/logfile.ts';

const T0 = '2026-11-22T16:19:40.870014842+00:00';
const ns = (s: string) => parseTimestamp(s)!;

async function collect(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'berth-log-'));
}

function line(sec: number, stream: string, tag: string, text: string): string {
  return `2026-11-22T16:19:${String(sec).padStart(2, '0')}.000000001+00:00 ${stream} ${tag} ${text}\n`;
}

test('timestamps parse to ns and format back in UTC', () => {
  const t = ns(T0);
  assert.equal(t, BigInt(Date.parse('2026-11-22T16:19:40Z')) * 1_000_000n + 870014842n);
  assert.equal(formatTimestamp(t), '2026-11-22T16:19:40.870014842Z');
  assert.equal(ns('2026-11-22T18:19:40.5+02:00'), BigInt(Date.parse('2026-11-22T16:19:40Z')) * 1_000_000n + 500000000n);
  assert.equal(parseTimestamp('garbage'), undefined);
});

test('parses full, partial and empty lines', () => {
  const f = parseLogLine(Buffer.from(`${T0} stdout F hello world`))!;
  assert.equal(f.stream, 'stdout');
  assert.equal(f.partial, false);
  assert.equal(f.data.toString(), 'hello world\n');
  const p = parseLogLine(Buffer.from(`${T0} stderr P abc`))!;
  assert.equal(p.stream, 'stderr');
  assert.equal(p.partial, true);
  assert.equal(p.data.toString(), 'abc');
  assert.equal(parseLogLine(Buffer.from(`${T0} stdout F `))!.data.toString(), '\n');
  assert.equal(parseLogLine(Buffer.from(`${T0} stdout F`))!.data.toString(), '\n');
  assert.equal(parseLogLine(Buffer.from('not a log line')), undefined);
  // Binary-safe text
  const bin = parseLogLine(Buffer.concat([Buffer.from(`${T0} stdout P `), Buffer.from([0xff, 0x00, 0x20])]))!;
  assert.deepEqual([...bin.data], [0xff, 0x00, 0x20]);
});

test('reads a whole file; partial lines join', async () => {
  const dir = await tmp();
  const p = join(dir, 'ctr.log');
  await writeFile(p, line(1, 'stdout', 'F', 'a') + line(2, 'stderr', 'P', 'b1') + line(2, 'stderr', 'F', 'b2') + line(3, 'stdout', 'F', 'c'));
  const es = await collect(readLog(p));
  assert.equal(Buffer.concat(es.map((e) => e.data)).toString(), 'a\nb1b2\nc\n');
  assert.deepEqual(es.map((e) => e.stream), ['stdout', 'stderr', 'stderr', 'stdout']);
  assert.deepEqual(await collect(readLog(join(dir, 'missing.log'))), []);
  await rm(dir, { recursive: true });
});

test('tail reads only the last N entries, also across block boundaries', async () => {
  const dir = await tmp();
  const p = join(dir, 'ctr.log');
  let text = '';
  for (let i = 0; i < 5000; i++) text += line(i % 60, 'stdout', 'F', `line ${i} ${'x'.repeat(40)}`);
  await writeFile(p, text);
  const last3 = await collect(readLog(p, { tail: 3 }));
  assert.deepEqual(last3.map((e) => e.data.toString().split(' ').slice(0, 2).join(' ')), ['line 4997', 'line 4998', 'line 4999']);
  assert.equal((await collect(readLog(p, { tail: 0 }))).length, 0);
  assert.equal((await collect(readLog(p, { tail: 10000 }))).length, 5000);
  assert.equal((await collect(readLog(p, { tail: 1 })))[0].data.toString().startsWith('line 4999'), true);
  await rm(dir, { recursive: true });
});

test('since is inclusive, until ends the stream', async () => {
  const dir = await tmp();
  const p = join(dir, 'ctr.log');
  await writeFile(p, [1, 2, 3, 4].map((s) => line(s, 'stdout', 'F', `s${s}`)).join(''));
  const since = ns('2026-11-22T16:19:02.000000001+00:00');
  const until = ns('2026-11-22T16:19:03.5+00:00');
  const es = await collect(readLog(p, { since, until }));
  assert.deepEqual(es.map((e) => e.data.toString()), ['s2\n', 's3\n']);
  await rm(dir, { recursive: true });
});

/** Waits until `cond` holds, polling; fails (instead of hanging) after `ms`. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('follow delivers appended lines, waits for half-written lines, and drains before stopping', { timeout: 60_000 }, async () => {
  const dir = await tmp();
  const p = join(dir, 'ctr.log');
  await writeFile(p, line(1, 'stdout', 'F', 'first'));
  const drain = new AbortController();
  const stop = new AbortController();
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of readLog(p, { follow: true, drainSignal: drain.signal, signal: stop.signal, pollMs: 1000 })) got.push(e.data.toString());
  })();
  try {
    await until(() => got.length === 1, 'the first line');
    assert.deepEqual(got, ['first\n']);
    // A line written in two pieces is delivered once, whole: the reader sees the first piece
    // (a poll tick passes) and still delivers nothing until the rest arrives.
    const l2 = line(2, 'stdout', 'F', 'second');
    await appendFile(p, l2.slice(0, 20));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, ['first\n']);
    await appendFile(p, l2.slice(20));
    await until(() => got.length === 2, 'the second line');
    assert.deepEqual(got, ['first\n', 'second\n']);
    // Writes just before the stop are not lost.
    await appendFile(p, line(3, 'stderr', 'F', 'third') + line(4, 'stdout', 'F', 'last'));
    drain.abort();
    await reader;
    assert.deepEqual(got, ['first\n', 'second\n', 'third\n', 'last\n']);
  } finally {
    stop.abort(); // a failed assertion must not leave the follower (and this process) running
    await reader.catch(() => undefined);
    await rm(dir, { recursive: true });
  }
});

test('follow with stopWhen and a log file that appears later; signal stops at once', { timeout: 60_000 }, async () => {
  const dir = await tmp();
  const p = join(dir, 'ctr.log');
  let done = false;
  const got: string[] = [];
  const stop1 = new AbortController();
  const reader = (async () => {
    for await (const e of readLog(p, { follow: true, stopWhen: () => done, signal: stop1.signal, pollMs: 20 })) got.push(e.data.toString());
  })();
  const stop = new AbortController();
  try {
    await new Promise((r) => setTimeout(r, 30));
    await writeFile(p, line(1, 'stdout', 'F', 'late'));
    await appendFile(p, line(2, 'stdout', 'F', 'later'));
    done = true;
    await reader;
    assert.deepEqual(got, ['late\n', 'later\n']);

    // An abort ends a follow at once, long before its next poll tick (an hour away): if the
    // signal were ignored, this test would run into its timeout.
    const r2 = collect(readLog(p, { follow: true, signal: stop.signal, pollMs: 3_600_000 }));
    setTimeout(() => stop.abort(), 20);
    assert.equal((await r2).length, 2);
  } finally {
    stop1.abort();
    stop.abort();
    await reader.catch(() => undefined);
    await rm(dir, { recursive: true });
  }
});
