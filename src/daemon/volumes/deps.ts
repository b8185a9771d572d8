import type { EventBus } from '../../lib/events.ts';
import type { KeyedLock } from '../../lib/keyedlock.ts';
import type { DriverRegistry } from '../../volumes/registry.ts';
import type { VolumeStore } from '../../volumes/store.ts';

/** What the volume operations receive (wired in cmd/berthd.ts). */
export interface VolumeDeps {
  store: VolumeStore;
  drivers: DriverRegistry;
  events: EventBus;
  /** Serializes create/remove of one volume name. */
  locks: KeyedLock;
}

export function volumeLockKey(name: string): string {
  return `volume:${name}`;
}
