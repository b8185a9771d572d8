// Restart policy decisions and moby's backoff (100 ms doubling, capped at a minute, reset after 10 s of running).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartManager, policyRestarts, restartsAtBoot } from '../../../src/daemon/containers/restartpolicy.ts';

const facts = (exitCode: number, manuallyStopped = false, restartCount = 0) => ({ exitCode, manuallyStopped, restartCount });

test('policies decide as dockerd', () => {
  const m = new RestartManager();
  assert.equal(m.shouldRestart({ Name: 'no', MaximumRetryCount: 0 }, facts(1)), false);
  assert.equal(m.shouldRestart({ Name: 'always', MaximumRetryCount: 0 }, facts(0)), true);
  assert.equal(m.shouldRestart({ Name: 'always', MaximumRetryCount: 0 }, facts(0, true)), false, 'a manual stop cancels');
  assert.equal(m.shouldRestart({ Name: 'unless-stopped', MaximumRetryCount: 0 }, facts(0)), true);
  assert.equal(m.shouldRestart({ Name: 'on-failure', MaximumRetryCount: 0 }, facts(0)), false);
  assert.equal(m.shouldRestart({ Name: 'on-failure', MaximumRetryCount: 0 }, facts(2, false, 100)), true);
  assert.equal(policyRestarts({ Name: 'on-failure', MaximumRetryCount: 2 }, facts(1, false, 1)), true);
  assert.equal(policyRestarts({ Name: 'on-failure', MaximumRetryCount: 2 }, facts(1, false, 2)), false);
  assert.equal(restartsAtBoot({ Name: 'always', MaximumRetryCount: 0 }, { ...facts(0, true), startedBefore: true }), true);
  assert.equal(restartsAtBoot({ Name: 'always', MaximumRetryCount: 0 }, { ...facts(0), startedBefore: false }), false);
  assert.equal(restartsAtBoot({ Name: 'unless-stopped', MaximumRetryCount: 0 }, { ...facts(0, true), startedBefore: true }), false);
  assert.equal(restartsAtBoot({ Name: 'unless-stopped', MaximumRetryCount: 0 }, { ...facts(255), startedBefore: true }), true);
});

test('backoff: 100 ms doubling to a minute, back to 100 ms after a 10 s run', () => {
  const m = new RestartManager();
  const seq = Array.from({ length: 12 }, () => m.nextDelay('c', 50));
  assert.deepEqual(seq, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  assert.equal(m.nextDelay('c', 10_000), 100);
  assert.equal(m.nextDelay('c', 10), 200);
  m.reset('c');
  assert.equal(m.nextDelay('c', 10), 100);
  assert.equal(m.nextDelay('other', 10), 100);
});

test('a scheduled restart can be cancelled', async () => {
  const m = new RestartManager();
  let ran = 0;
  m.schedule('c', 5, () => ran++);
  assert.equal(m.pending('c'), true);
  assert.equal(m.cancel('c'), true);
  assert.equal(m.cancel('c'), false);
  m.schedule('d', 1, () => ran++);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(ran, 1);
  assert.equal(m.pending('d'), false);
});
