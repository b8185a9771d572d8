import { release } from 'node:os';
import { API_VERSION, MIN_API_VERSION, ENGINE_VERSION } from '../../api/version.ts';
import type { VersionResponse } from '../../types/docker.ts';

export function versionInfo(runtimeVersion: string): VersionResponse {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return {
    Platform: { Name: 'berth' },
    Components: [
      {
        Name: 'Engine',
        Version: ENGINE_VERSION,
        Details: { ApiVersion: API_VERSION, Arch: arch, BuildTime: '', Experimental: 'false', GitCommit: '', GoVersion: `node ${process.version}`, KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux' },
      },
      { Name: 'runc', Version: runtimeVersion, Details: { GitCommit: '' } },
    ],
    Version: ENGINE_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: arch,
    KernelVersion: release(),
    BuildTime: '',
  };
}
