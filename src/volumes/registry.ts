import { errorMessage, NotFound } from '../lib/errors.ts';
import type { VolumeDriver } from './driver.ts';
import { findPlugin, type PluginDirs } from './plugin/discovery.ts';
import { PluginVolumeDriver } from './plugin/driver.ts';

/**
 * The volume drivers by name: `local` always, plugins found through Docker's discovery on first
 * use and kept once activated.
 */
export class DriverRegistry {
  readonly local: VolumeDriver;
  private readonly pluginDirs: PluginDirs;
  private readonly plugins = new Map<string, Promise<VolumeDriver>>();

  constructor(opts: { local: VolumeDriver; pluginDirs: PluginDirs }) {
    this.local = opts.local;
    this.pluginDirs = opts.pluginDirs;
  }

  async get(name: string): Promise<VolumeDriver> {
    if (name === '' || name === 'local') return this.local;
    let p = this.plugins.get(name);
    if (!p) {
      p = (async () => {
        const addr = await findPlugin(name, this.pluginDirs);
        return PluginVolumeDriver.activate(name, addr);
      })();
      this.plugins.set(name, p);
      // A plugin that is not there yet may appear later: do not cache failures.
      p.catch(() => this.plugins.delete(name));
    }
    try {
      return await p;
    } catch (err) {
      throw new NotFound(`error looking up volume plugin ${name}: ${errorMessage(err)}`, { cause: err });
    }
  }
}
