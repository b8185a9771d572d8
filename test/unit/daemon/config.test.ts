import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeConfig, normalizeHostConfig, processArgs } from '../../../src/daemon/containers/config.ts';
import { validateCreate } from '../../../src/daemon/containers/validate.ts';
import type { ImageConfig } from '../../../src/types/oci.ts';

const image: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
  config: { Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'], Entrypoint: ['/init'], WorkingDir: '/srv', User: 'nobody', Labels: { from: 'image' } },
};
const id = 'a'.repeat(64);

test('request overrides image config; env merges by key', () => {
  const c = mergeConfig({ Image: 'x', Env: ['A=2', 'B=3'], Cmd: ['echo', 'hi'], Labels: { l: 'v' } }, image, id);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=2', 'B=3']);
  assert.deepEqual(processArgs(c), ['/init', 'echo', 'hi']);
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, 'nobody');
  assert.equal(c.Hostname, 'aaaaaaaaaaaa');
  assert.deepEqual(c.Labels, { from: 'image', l: 'v' });
});

test('a new entrypoint drops the image CMD; --entrypoint "" clears it', () => {
  assert.deepEqual(processArgs(mergeConfig({ Image: 'x', Entrypoint: ['sh'] }, image, id)), ['sh']);
  assert.deepEqual(processArgs(mergeConfig({ Image: 'x', Entrypoint: [''], Cmd: ['ls'] }, image, id)), ['ls']);
  assert.deepEqual(processArgs(mergeConfig({ Image: 'x' }, image, id)), ['/init', 'sh']);
});

test('host config defaults have the inspect shape', () => {
  const hc = normalizeHostConfig({}, 'runc');
  assert.equal(hc.NetworkMode, 'default');
  assert.deepEqual(hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(hc.ShmSize, 67108864);
  assert.equal(hc.Runtime, 'runc');
  assert.equal(hc.PidsLimit, null);
});

test('validation uses dockerd texts', () => {
  assert.throws(() => validateCreate({ Image: 'x', HostConfig: { Memory: 100 } }), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => validateCreate({ Image: 'x', HostConfig: { Memory: 64 << 20, MemorySwap: 1 << 20 } }), /Minimum memoryswap limit/);
  assert.throws(() => validateCreate({ Image: 'x', HostConfig: { NanoCpus: 1e12 } }), /Range of CPUs/);
  assert.throws(() => validateCreate({ Image: 'x', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } }), /AutoRemove/);
  // Unknown networks are found by the network layer at create (test/integration/network-*.test.ts).
  assert.throws(() => validateCreate({ Image: 'x', Cmd: 'ls' as unknown as string[] }), /invalid Cmd/);
  assert.doesNotThrow(() => validateCreate({ Image: 'x', HostConfig: { Memory: 64 << 20, NanoCpus: 5e8, NetworkMode: 'host' } }));
});
