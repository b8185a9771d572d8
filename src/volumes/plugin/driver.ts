import { SystemError } from '../../lib/errors.ts';
import type { DriverVolume, VolumeDriver } from '../driver.ts';
import { PluginClient } from './client.ts';
import type { PluginAddress } from './discovery.ts';

interface WireVolume {
  Name: string;
  Mountpoint?: string;
  Status?: Record<string, unknown>;
  CreatedAt?: string;
}

function fromWire(v: WireVolume): DriverVolume {
  const out: DriverVolume = { name: v.Name, mountpoint: v.Mountpoint ?? '' };
  if (v.Status) out.status = v.Status;
  if (v.CreatedAt) out.createdAt = v.CreatedAt;
  return out;
}

/**
 * A volume driver behind Docker's plugin protocol (VolumeDriver.*). The plugin counts mounts
 * itself (each Mount carries the container's ID), so nothing is adopted after a restart.
 */
export class PluginVolumeDriver implements VolumeDriver {
  readonly name: string;
  private readonly client: PluginClient;
  private cachedScope?: 'local' | 'global';

  private constructor(name: string, client: PluginClient) {
    this.name = name;
    this.client = client;
  }

  /** Handshake: Plugin.Activate must list VolumeDriver among what the plugin implements. */
  static async activate(name: string, address: PluginAddress, timeoutMs?: number): Promise<PluginVolumeDriver> {
    const client = new PluginClient({ address, timeoutMs });
    const res = await client.call<{ Implements?: string[]; Err?: string }>('Plugin.Activate');
    if (!res.Implements?.includes('VolumeDriver')) throw new SystemError(`plugin "${name}" does not implement VolumeDriver`);
    return new PluginVolumeDriver(name, client);
  }

  async scope(): Promise<'local' | 'global'> {
    if (this.cachedScope) return this.cachedScope;
    try {
      const res = await this.client.call<{ Capabilities?: { Scope?: string }; Err?: string }>('VolumeDriver.Capabilities');
      this.cachedScope = res.Capabilities?.Scope === 'global' ? 'global' : 'local';
    } catch {
      this.cachedScope = 'local'; // Capabilities is optional in the protocol
    }
    return this.cachedScope;
  }

  async create(name: string, options: Record<string, string>): Promise<void> {
    await this.client.call('VolumeDriver.Create', { Name: name, Opts: options });
  }

  async remove(name: string): Promise<void> {
    await this.client.call('VolumeDriver.Remove', { Name: name });
  }

  async mount(name: string, mountId: string): Promise<string> {
    const res = await this.client.call<{ Mountpoint?: string; Err?: string }>('VolumeDriver.Mount', { Name: name, ID: mountId });
    if (!res.Mountpoint) throw new SystemError(`VolumeDriver.Mount: plugin ${this.name} returned no mountpoint for ${name}`);
    return res.Mountpoint;
  }

  async unmount(name: string, mountId: string): Promise<void> {
    await this.client.call('VolumeDriver.Unmount', { Name: name, ID: mountId });
  }

  async path(name: string): Promise<string> {
    const res = await this.client.call<{ Mountpoint?: string; Err?: string }>('VolumeDriver.Path', { Name: name });
    return res.Mountpoint ?? '';
  }

  async get(name: string): Promise<DriverVolume | undefined> {
    try {
      const res = await this.client.call<{ Volume?: WireVolume; Err?: string }>('VolumeDriver.Get', { Name: name });
      return res.Volume ? fromWire(res.Volume) : undefined;
    } catch {
      return undefined;
    }
  }

  async list(): Promise<DriverVolume[]> {
    const res = await this.client.call<{ Volumes?: WireVolume[] | null; Err?: string }>('VolumeDriver.List');
    return (res.Volumes ?? []).map(fromWire);
  }
}
