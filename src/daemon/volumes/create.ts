import { randomId } from '../../lib/digest.ts';
import { Conflict, InvalidParameter } from '../../lib/errors.ts';
import { failpoint } from '../../lib/failpoint.ts';
import type { Volume, VolumeCreateRequest } from '../../types/volumes.ts';
import { ANONYMOUS_LABEL } from '../../volumes/driver.ts';
import { LocalDriver } from '../../volumes/local/local.ts';
import { validateVolumeName } from '../../volumes/mountspec.ts';
import type { VolumeRecord } from '../../volumes/store.ts';
import { volumeLockKey, type VolumeDeps } from './deps.ts';
import { volumeView } from './view.ts';

export interface EnsureVolumeOptions {
  name: string;
  /** '' = the existing volume's driver, else local. */
  driver: string;
  driverOptions: Record<string, string>;
  labels: Record<string, string>;
  anonymous?: boolean;
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameter(`invalid ${what}: expected an object`);
  for (const [k, val] of Object.entries(v)) if (typeof val !== 'string') throw new InvalidParameter(`invalid ${what} ${k}: expected a string`);
  return v as Record<string, string>;
}

/**
 * Get or create a volume. An existing volume of the same driver is returned as it is (dockerd
 * ignores the options then); another driver is a conflict. The driver makes the volume first and
 * the record is written last, so a failure or crash never leaves a record without data.
 * Returns the record and whether it was created now.
 */
export async function ensureVolume(deps: VolumeDeps, opts: EnsureVolumeOptions): Promise<{ volume: VolumeRecord; created: boolean }> {
  const anonymous = opts.anonymous ?? opts.name === '';
  const name = opts.name || randomId();
  validateVolumeName(name);
  return deps.locks.run(volumeLockKey(name), async () => {
    const existing = deps.store.get(name);
    // No driver asked for: an existing volume is used with whatever driver it has.
    const driverName = opts.driver || existing?.driver || 'local';
    if (existing) {
      if (existing.driver !== driverName) throw new Conflict(`create ${name}: volume name "${name}" already in use with driver "${existing.driver}"`);
      return { volume: existing, created: false };
    }
    if (driverName === 'local') LocalDriver.validateOptions(opts.driverOptions);
    const driver = await deps.drivers.get(driverName);
    const labels = { ...opts.labels };
    if (anonymous) labels[ANONYMOUS_LABEL] = '';
    const rec: VolumeRecord = {
      name,
      driver: driverName,
      labels: Object.keys(labels).length ? labels : null,
      options: Object.keys(opts.driverOptions).length ? { ...opts.driverOptions } : null,
      anonymous,
      created: Date.now(),
    };
    await driver.create(name, opts.driverOptions);
    failpoint('volume-create-before-commit');
    try {
      deps.store.insert(rec);
    } catch (err) {
      await driver.remove(name).catch(() => undefined);
      throw err;
    }
    deps.events.publish('volume', 'create', name, { driver: driverName });
    return { volume: rec, created: true };
  });
}

/** POST /volumes/create. */
export async function createVolume(deps: VolumeDeps, req: VolumeCreateRequest | undefined): Promise<Volume> {
  const body = req ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameter('invalid volume create request');
  if (body.Name !== undefined && body.Name !== null && typeof body.Name !== 'string') throw new InvalidParameter('invalid Name: expected a string');
  if (body.Driver !== undefined && body.Driver !== null && typeof body.Driver !== 'string') throw new InvalidParameter('invalid Driver: expected a string');
  const { volume } = await ensureVolume(deps, {
    name: body.Name ?? '',
    driver: body.Driver ?? 'local',
    driverOptions: stringMap(body.DriverOpts, 'DriverOpts'),
    labels: stringMap(body.Labels, 'Labels'),
    // `volume create` without a name makes a named volume with a random name, not an anonymous one
    anonymous: false,
  });
  return volumeView(deps, volume);
}
