import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBind, parseMount, parseTmpfs, parseVolumesFrom, tmpfsSpecOptions } from '../../../src/volumes/mountspec.ts';
import { LocalDriver } from '../../../src/volumes/local/local.ts';

test('-v name:/path[:mode] is a volume; /host:/path a bind with rprivate; modes parsed', () => {
  const v = parseBind('data:/srv/data/:ro,nocopy', '');
  assert.equal(v.record.Type, 'volume');
  assert.equal(v.record.Name, 'data');
  assert.equal(v.record.Destination, '/srv/data');
  assert.equal(v.record.RW, false);
  assert.equal(v.record.copyData, false);
  assert.deepEqual(v.volume, { name: 'data', driver: '', driverOptions: {}, labels: {} });
  assert.equal(parseBind('data:/d', '').record.Mode, 'z');
  const b = parseBind('/host/dir:/c:rshared', '');
  assert.deepEqual(b.record, { Type: 'bind', Source: '/host/dir', Destination: '/c', Mode: 'rshared', RW: true, Propagation: 'rshared', createHostPath: true });
  assert.equal(parseBind('/anon', '').record.Name, '');
});

test('-v errors carry dockerd texts', () => {
  assert.throws(() => parseBind('a:b:c:d', ''), /invalid volume specification: 'a:b:c:d'/);
  assert.throws(() => parseBind('data:relative', ''), /mount path must be absolute/);
  assert.throws(() => parseBind('data:/', ''), /destination can't be '\/'/);
  assert.throws(() => parseBind('data:/x:bogus', ''), /invalid mode: bogus/);
  assert.throws(() => parseBind('data:/x:ro,rw', ''), /invalid mode: ro,rw/);
  assert.throws(() => parseBind('./rel:/x', ''), /includes invalid characters for a local volume name/);
  assert.throws(() => parseBind('/h:/x:nocopy', ''), /invalid mode: nocopy/);
});

test('--mount: bind, volume (driver, opts, labels, nocopy, subpath), tmpfs (size, mode)', () => {
  const b = parseMount({ Type: 'bind', Source: '/h', Target: '/t', ReadOnly: true, BindOptions: { Propagation: 'rslave' } }, '');
  assert.deepEqual(b.record, { Type: 'bind', Source: '/h', Destination: '/t', Mode: '', RW: false, Propagation: 'rslave', createHostPath: false });
  const v = parseMount({ Type: 'volume', Source: 'vv', Target: '/v', VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'plug', Options: { o: '1' } }, Subpath: 'sub/dir' } }, 'local');
  assert.equal(v.record.Driver, 'plug');
  assert.equal(v.record.copyData, false);
  assert.equal(v.record.subpath, 'sub/dir');
  assert.deepEqual(v.volume, { name: 'vv', driver: 'plug', driverOptions: { o: '1' }, labels: { a: 'b' } });
  const t = parseMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } }, '');
  assert.deepEqual(t.record.tmpfsOptions, ['size=1m', 'mode=1770']);
  assert.throws(() => parseMount({ Type: 'bind', Target: '/t' }, ''), /invalid mount config for type "bind": field Source must not be empty/);
  assert.throws(() => parseMount({ Type: 'tmpfs', Source: 'x', Target: '/t' }, ''), /field Source must not be specified/);
  assert.throws(() => parseMount({ Type: 'volume', Source: 'v', Target: '' }, ''), /field Target must not be empty/);
  assert.throws(() => parseMount({ Type: 'volume', Source: 'vv', Target: '/t', VolumeOptions: { Subpath: '../up' } }, ''), /subpath must be a relative path/);
});

test('tmpfs options: moby defaults, user options win, exec cancels noexec', () => {
  assert.deepEqual(tmpfsSpecOptions(['size=64k']), ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=64k']);
  assert.deepEqual(tmpfsSpecOptions(['exec', 'mode=1777'], false), ['nosuid', 'nodev', 'rprivate', 'exec', 'mode=1777', 'ro']);
  assert.deepEqual(parseTmpfs({ '/run/': 'size=1m,mode=755' }), [{ destination: '/run', options: ['size=1m', 'mode=755'] }]);
  assert.throws(() => parseTmpfs({ rel: '' }), /must be absolute/);
});

test('--volumes-from ctr[:ro|:rw]', () => {
  assert.deepEqual(parseVolumesFrom('c1'), { container: 'c1', mode: '' });
  assert.deepEqual(parseVolumesFrom('c1:ro'), { container: 'c1', mode: 'ro' });
  assert.throws(() => parseVolumesFrom('c1:xx'), /invalid mode for volumes-from: xx/);
});

test('local driver options: type/device/o, no quota, unknown keys refused', () => {
  assert.equal(LocalDriver.validateOptions({}), null);
  assert.deepEqual(LocalDriver.validateOptions({ type: 'tmpfs', device: 'tmpfs', o: 'size=64m' }), { type: 'tmpfs', device: 'tmpfs', o: 'size=64m' });
  assert.throws(() => LocalDriver.validateOptions({ foo: 'bar' }), /invalid option key: "foo"/);
  assert.throws(() => LocalDriver.validateOptions({ size: '1g' }), /quota size requested but no quota support/);
  assert.throws(() => LocalDriver.validateOptions({ type: 'tmpfs' }), /missing required option: "device"/);
});
