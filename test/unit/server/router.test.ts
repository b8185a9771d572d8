import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../../src/server/router.ts';
import type { Handler } from '../../../src/server/context.ts';

const h = (name: string): Handler => Object.assign(async () => undefined, { label: name });
const label = (r: ReturnType<Router['find']>): string | undefined => (r?.handler as unknown as { label: string } | undefined)?.label;

test('static beats param beats wildcard; params are decoded', () => {
  const r = new Router();
  r.on('GET', '/containers/json', h('list'));
  r.on('GET', '/containers/:id/json', h('inspect'));
  r.on('DELETE', '/containers/:id', h('rm'));
  r.on('GET', '/images/json', h('images'));
  r.on('GET', '/images/*', h('image-any'));
  r.on(['GET', 'HEAD'], '/_ping', h('ping'));
  assert.equal(label(r.find('GET', '/containers/json')), 'list');
  const ins = r.find('GET', '/containers/abc%2Fdef/json');
  assert.equal(label(ins), 'inspect');
  assert.equal(ins?.params.id, 'abc/def');
  assert.equal(label(r.find('DELETE', '/containers/x')), 'rm');
  assert.equal(r.find('POST', '/containers/x'), undefined);
  assert.equal(label(r.find('GET', '/images/json')), 'images');
  const img = r.find('GET', '/images/127.0.0.1:5000/test/busybox/json');
  assert.equal(label(img), 'image-any');
  assert.equal(img?.params['*'], '127.0.0.1:5000/test/busybox/json');
  assert.equal(label(r.find('HEAD', '/_ping')), 'ping');
  assert.equal(label(r.find('GET', '/_ping/')), 'ping');
  assert.equal(r.find('GET', '/nope'), undefined);
  assert.throws(() => r.find('GET', '/containers/%E0%A4%A/json'), /invalid path segment/);
});
