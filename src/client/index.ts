// EngineClient: the typed Docker Engine API client shared by the CLI, compose and the tests.
import { BuildApi } from './build.ts';
import { AuthApi } from './auth.ts';
import { ContainersApi } from './containers.ts';
import { ContainerFilesApi } from './container-files.ts';
import { ExecApi } from './exec.ts';
import { ContainerOpsApi } from './container-ops.ts';
import { ImagesApi } from './images.ts';
import { SystemApi } from './system.ts';
import { VolumesApi } from './volumes.ts';
import { NetworksApi } from './networks.ts';
import { Transport, type TransportOptions } from './transport.ts';

export type { TransportOptions } from './transport.ts';

export class EngineClient {
  readonly transport: Transport;
  readonly containers: ContainersApi;
  /** commit, diff, cp, export, container prune. */
  readonly containerFiles: ContainerFilesApi;
  readonly exec: ExecApi;
  /** top, stats, pause/unpause, update. */
  readonly containerOps: ContainerOpsApi;
  readonly images: ImagesApi;
  readonly system: SystemApi;
  readonly volumes: VolumesApi;
  readonly networks: NetworksApi;
  readonly build: BuildApi;
  readonly auth: AuthApi;

  constructor(options: TransportOptions = {}) {
    this.transport = new Transport(options);
    this.containers = new ContainersApi(this.transport);
    this.containerFiles = new ContainerFilesApi(this.transport);
    this.exec = new ExecApi(this.transport);
    this.containerOps = new ContainerOpsApi(this.transport);
    this.images = new ImagesApi(this.transport);
    this.system = new SystemApi(this.transport);
    this.volumes = new VolumesApi(this.transport);
    this.networks = new NetworksApi(this.transport);
    this.build = new BuildApi(this.transport);
    this.auth = new AuthApi(this.transport);
  }

  get host(): string {
    return this.transport.host;
  }

  /** The negotiated API version, e.g. "1.47". */
  apiVersion(): Promise<string> {
    return this.transport.apiVersion();
  }

  close(): void {
    this.transport.close();
  }
}

export { Transport } from './transport.ts';
export { demuxTo, copyRaw, FrameParser } from './demux.ts';
export { StreamError } from './progress.ts';
export { encodeRegistryAuth, type AuthConfig } from './auth.ts';
