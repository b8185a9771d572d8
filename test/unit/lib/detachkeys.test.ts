import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachKeyFilter, parseDetachKeys } from '../../../src/lib/detachkeys.ts';
import { execProcess } from '../../../src/runtime/spec/exec.ts';

test('detach keys parse as docker does', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [0x10, 0x11]);
  assert.deepEqual(parseDetachKeys('a,ctrl-b'), [0x61, 0x02]);
  assert.deepEqual(parseDetachKeys('ctrl-@,ctrl-['), [0, 27]);
  assert.throws(() => parseDetachKeys('ctrl-pp'), /Unknown character/);
});

test('the detach filter passes input on, holds back a prefix, and detaches on the sequence', () => {
  const f = new DetachKeyFilter([0x10, 0x11]);
  assert.deepEqual(f.feed(Buffer.from('ab')), { pass: Buffer.from('ab'), detach: false });
  // a lone ctrl-p is held back until the next byte shows it was not the sequence
  assert.deepEqual(f.feed(Buffer.from([0x10])), { pass: Buffer.alloc(0), detach: false });
  assert.deepEqual(f.feed(Buffer.from('x')), { pass: Buffer.from([0x10, 0x78]), detach: false });
  assert.deepEqual(f.feed(Buffer.from([0x41, 0x10, 0x11, 0x42])), { pass: Buffer.from([0x41]), detach: true });
});

test('exec process: the container process with the exec command, user, env, terminal; privileged caps bounded by the host', () => {
  const base = { terminal: false, user: { uid: 0, gid: 0 }, args: ['sleep', '1'], env: ['A=1'], cwd: '/', capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] }, rlimits: [{ type: 'RLIMIT_NOFILE', hard: 10, soft: 10 }], noNewPrivileges: true, consoleSize: { height: 1, width: 1 } };
  const p = execProcess({ base, args: ['sh', '-c', 'x'], env: ['B=2'], cwd: '/tmp', user: { uid: 65534, gid: 65534, additionalGids: [], home: '/home' }, tty: true, privileged: false, consoleSize: [40, 120] });
  assert.deepEqual(p.args, ['sh', '-c', 'x']);
  assert.deepEqual(p.env, ['B=2']);
  assert.equal(p.cwd, '/tmp');
  assert.deepEqual(p.user, { uid: 65534, gid: 65534 });
  assert.equal(p.terminal, true);
  assert.deepEqual(p.consoleSize, { height: 40, width: 120 });
  assert.deepEqual(p.rlimits, base.rlimits);
  assert.equal(p.noNewPrivileges, true);
  assert.deepEqual(p.capabilities, base.capabilities);
  const priv = execProcess({ base, args: ['true'], env: [], cwd: '', user: { uid: 0, gid: 0, additionalGids: [], home: '/' }, tty: false, privileged: true, boundingCaps: ['CAP_CHOWN', 'CAP_SYS_ADMIN'] });
  assert.deepEqual(priv.capabilities?.bounding, ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
  assert.equal(priv.consoleSize, undefined);
  assert.equal(priv.cwd, '/');
});
