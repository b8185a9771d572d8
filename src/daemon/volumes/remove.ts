import { Conflict, errorMessage } from '../../lib/errors.ts';
import { failpoint } from '../../lib/failpoint.ts';
import { log } from '../../lib/logger.ts';
import { volumeLockKey, type VolumeDeps } from './deps.ts';
import { noSuchVolume } from './inspect.ts';

/**
 * DELETE /volumes/{name}. A volume used by any container (running or not) is a 409 and stays
 * untouched. The record goes first, the data second: a crash in between leaves only data without
 * a record, which the local driver sweeps at start. If the driver fails (a plugin error), the
 * record is put back unless `force` asks to forget the volume anyway.
 */
export async function removeVolume(deps: VolumeDeps, name: string, opts: { force?: boolean } = {}): Promise<void> {
  await deps.locks.run(volumeLockKey(name), async () => {
    const v = deps.store.get(name);
    if (!v) {
      if (opts.force) return;
      throw noSuchVolume(name);
    }
    const users = deps.store.users(name);
    if (users.length > 0) throw new Conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    deps.store.tx(() => {
      if (deps.store.users(name).length > 0) throw new Conflict(`remove ${name}: volume is in use - [${deps.store.users(name).join(', ')}]`);
      deps.store.delete(name);
    });
    failpoint('volume-remove-after-commit');
    try {
      const driver = await deps.drivers.get(v.driver);
      await driver.remove(name);
    } catch (err) {
      if (!opts.force) {
        deps.store.insert(v);
        throw err;
      }
      log.warn('volume driver failed to remove a volume; forgotten anyway (force)', { name, error: errorMessage(err) });
    }
    deps.events.publish('volume', 'destroy', name, { driver: v.driver });
  });
}
