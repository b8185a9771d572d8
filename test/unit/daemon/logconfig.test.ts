import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeLogConfig, rotationOf, validateLogConfig, logDetails } from '../../../src/daemon/containers/logconfig.ts';
import type { ContainerRecord } from '../../../src/daemon/containers/record.ts';

const json = { Type: 'json-file', Config: {} };

test('the daemon default fills in driver and (same driver) options', () => {
  const def = { Type: 'json-file', Config: { 'max-size': '10m' } };
  assert.deepEqual(mergeLogConfig(undefined, def), { Type: 'json-file', Config: { 'max-size': '10m' } });
  assert.deepEqual(mergeLogConfig({ Type: '', Config: { 'max-file': '2' } }, def), { Type: 'json-file', Config: { 'max-file': '2', 'max-size': '10m' } });
  assert.deepEqual(mergeLogConfig({ Type: 'none', Config: {} }, def), { Type: 'none', Config: {} });
  assert.deepEqual(mergeLogConfig(undefined, json), json);
});

test('validation with dockerd texts', () => {
  assert.throws(() => validateLogConfig({ Type: 'syslog', Config: {} }), /no log driver named 'syslog' is registered/);
  assert.throws(() => validateLogConfig({ Type: 'json-file', Config: { foo: '1' } }), /unknown log opt 'foo' for json-file log driver/);
  assert.throws(() => validateLogConfig({ Type: 'json-file', Config: { mode: 'x' } }), /logging mode not supported: x/);
  assert.throws(() => validateLogConfig({ Type: 'json-file', Config: { 'max-file': '0', 'max-size': '1k' } }), /max-file cannot be less than 1/);
  assert.throws(() => validateLogConfig({ Type: 'json-file', Config: { 'max-size': '0' } }), /max-size must be a positive number/);
  validateLogConfig({ Type: 'none', Config: { anything: 'x' } });
  assert.deepEqual(rotationOf({ Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '3' } }), { maxSize: 10_000, maxFiles: 3 });
  assert.deepEqual(rotationOf({ Type: 'json-file', Config: { 'max-size': '1.5MB' } }), { maxSize: 1_500_000, maxFiles: 1 });
  assert.equal(rotationOf({ Type: 'json-file', Config: { 'max-file': '3' } }), undefined);
});

test('--details attributes: labels, env, regexes, tag; sorted and query-escaped', () => {
  const rec = {
    id: 'c'.repeat(64),
    name: 'web',
    imageId: 'sha256:' + 'a'.repeat(64),
    imageRef: 'busybox',
    config: { Labels: { team: 'a b', zone: 'eu', other: 'x' }, Env: ['APP=web/1', 'X_ONE=1', 'X_TWO=2'] },
    hostConfig: { LogConfig: { Type: 'json-file', Config: { labels: 'team,missing', env: 'APP', 'env-regex': '^X_', tag: '{{.Name}}/{{.ID}}' } } },
  } as unknown as ContainerRecord;
  assert.equal(logDetails(rec), `APP=web%2F1,X_ONE=1,X_TWO=2,tag=web%2F${'c'.repeat(12)},team=a+b`);
});

test('berthd --log-driver / --log-opt defaults are parsed and validated', async () => {
  const { parseDaemonFlags } = await import('../../../src/cmd/berthd-flags.ts');
  const cfg = parseDaemonFlags(['--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3']);
  assert.equal(cfg.logDriver, 'json-file');
  assert.deepEqual(cfg.logOpts, { 'max-size': '10m', 'max-file': '3' });
  assert.equal(parseDaemonFlags([]).logDriver, 'json-file');
  assert.equal(parseDaemonFlags(['--log-driver', 'none']).logDriver, 'none');
  assert.throws(() => parseDaemonFlags(['--log-opt', 'foo=bar']), /unknown log opt 'foo'/);
  assert.throws(() => parseDaemonFlags(['--log-driver', 'syslog']), /no log driver named 'syslog'/);
});
