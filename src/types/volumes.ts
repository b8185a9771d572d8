// Docker Engine API shapes of the volumes area. Pure data, imports nothing.

export interface VolumeUsageData {
  /** Bytes used, or -1 when not computed. */
  Size: number;
  /** Containers referencing the volume, or -1 when not computed. */
  RefCount: number;
}

export interface Volume {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local' | 'global';
  Status?: Record<string, unknown>;
  UsageData?: VolumeUsageData | null;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface VolumeListResponse {
  Volumes: Volume[];
  Warnings: string[] | null;
}

export interface VolumePruneResponse {
  VolumesDeleted: string[] | null;
  SpaceReclaimed: number;
}
