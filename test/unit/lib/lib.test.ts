import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Filters, globMatch } from '../../../src/lib/filters.ts';
import { EventBus } from '../../../src/lib/events.ts';
import { parseSignal } from '../../../src/lib/signals.ts';
import { KeyedLock } from '../../../src/lib/keyedlock.ts';
import { chainId, sha256 } from '../../../src/lib/digest.ts';
import { generateName, CONTAINER_NAME_RE } from '../../../src/lib/names.ts';
import { parseEventTime, eventMatches } from '../../../src/daemon/system/events.ts';

test('filters: map and legacy list forms, labels, bad JSON', () => {
  const f = Filters.parse('{"label":{"a=b":true,"c":true},"status":["running"]}');
  assert.deepEqual(f.get('status'), ['running']);
  assert.ok(f.matchLabels('label', { a: 'b', c: '' }));
  assert.ok(!f.matchLabels('label', { a: 'x', c: '' }));
  assert.throws(() => Filters.parse('{nope'), /invalid filter/);
  assert.throws(() => Filters.parse('{"bogus":{"x":true}}', ['label']), /invalid filter 'bogus'/);
  assert.ok(globMatch('busy*', 'busybox'));
  assert.ok(!globMatch('busy*', 'xbusybox'));
});

test('signals parse like docker', () => {
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('10'), 10);
  assert.throws(() => parseSignal('NOPE'), /Invalid signal/);
});

test('chain IDs follow the OCI definition', () => {
  const a = sha256('a');
  const b = sha256('b');
  assert.equal(chainId([a]), a);
  assert.equal(chainId([a, b]), sha256(`${a} ${b}`));
});

test('generated names are docker-style and valid', () => {
  for (let i = 0; i < 50; i++) assert.match(generateName(), /^[a-z]+_[a-z]+$/);
  assert.ok(CONTAINER_NAME_RE.test('/web'));
  assert.ok(!CONTAINER_NAME_RE.test('a'));
});

test('keyed lock serializes per key', async () => {
  const lock = new KeyedLock();
  const order: string[] = [];
  const slow = lock.run('k', async () => {
    await new Promise((r) => setTimeout(r, 20));
    order.push('first');
  });
  const fast = lock.run('k', async () => order.push('second'));
  await Promise.all([slow, fast]);
  assert.deepEqual(order, ['first', 'second']);
});

test('events: history, filters, time parsing', () => {
  const bus = new EventBus(2);
  bus.publish('container', 'create', 'c1', { name: 'one', image: 'busybox' });
  bus.publish('container', 'start', 'c1', { name: 'one', image: 'busybox' });
  bus.publish('image', 'tag', 'sha256:x', { name: 'busybox:latest' });
  assert.equal(bus.recent().length, 2);
  const ev = bus.recent()[0];
  assert.equal(ev.status, 'start');
  assert.equal(ev.from, 'busybox');
  assert.ok(eventMatches(ev, Filters.parse('{"type":{"container":true},"event":{"start":true}}')));
  assert.ok(!eventMatches(ev, Filters.parse('{"container":{"two":true}}')));
  assert.equal(parseEventTime('1795362184.000000001'), 1795362184000000001n);
  assert.equal(parseEventTime('12'), 12000000000n);
});
