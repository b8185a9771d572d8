// Schema migrations, applied in order; PRAGMA user_version records how many ran.
// Append new migrations; never edit one that has shipped.
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL
  );
  -- A committed or active snapshot (containerd's model): layers are committed snapshots keyed
  -- by chain ID; container rootfs are active snapshots keyed by container ID.
  CREATE TABLE snapshots (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,          -- directory name under snapshots/
    parent TEXT REFERENCES snapshots(key),
    kind TEXT NOT NULL CHECK (kind IN ('committed', 'active', 'view')),
    size INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL
  );
  CREATE TABLE images (
    id TEXT PRIMARY KEY,              -- sha256 digest of the config blob
    manifest_digest TEXT,
    config TEXT NOT NULL,             -- the image config JSON (also in the content store)
    chain_id TEXT NOT NULL,           -- top layer's chain ID ('' for an empty image)
    size INTEGER NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    last_tag_time INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE image_refs (
    ref TEXT PRIMARY KEY,             -- normalized: docker.io/library/busybox:latest or repo@sha256:...
    image_id TEXT NOT NULL REFERENCES images(id),
    created INTEGER NOT NULL
  );
  CREATE INDEX image_refs_by_image ON image_refs(image_id);
  CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,        -- without the leading slash
    image_id TEXT NOT NULL,
    image_ref TEXT NOT NULL,          -- Config.Image as the user gave it
    created INTEGER NOT NULL,         -- unix nanoseconds
    config TEXT NOT NULL,             -- Config JSON
    host_config TEXT NOT NULL,        -- HostConfig JSON
    state TEXT NOT NULL,              -- ContainerRecordState JSON (status, pid, exit code, times)
    restart_count INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX containers_by_image ON containers(image_id);
  `,
  // issue 7: volumes, the mounts each container uses (the source of volume refcounts, rebuilt at
  // start), and daemon settings (the storage driver a data root was made with).
  `
  CREATE TABLE volumes (
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT 'null',   -- JSON object or null
    options TEXT NOT NULL DEFAULT 'null',  -- JSON object or null (driver options as given)
    anonymous INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL               -- unix milliseconds
  );
  CREATE TABLE container_mounts (
    container_id TEXT NOT NULL,
    destination TEXT NOT NULL,
    volume TEXT NOT NULL DEFAULT '',       -- volume name for type volume, '' otherwise
    data TEXT NOT NULL,                    -- the MountRecord JSON
    PRIMARY KEY (container_id, destination)
  );
  CREATE INDEX container_mounts_by_volume ON container_mounts(volume);
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // Issue 4: the builder's layer cache. A step's result (an image) keyed by its parent image and
  // the step's key (instruction after substitution, input checksums); survives restarts.
  `
  CREATE TABLE build_cache (
    parent TEXT NOT NULL,             -- the image the step ran on ('' for FROM scratch)
    key TEXT NOT NULL,                -- sha256 of the step: instruction text, build args, input checksums
    image_id TEXT NOT NULL,           -- the step's resulting image
    description TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    last_used INTEGER NOT NULL,
    PRIMARY KEY (parent, key)
  );
  CREATE INDEX build_cache_by_image ON build_cache(image_id);
  `,
  // Issue 6: networks and their endpoints (one row per container attached to a network; `state`
  // holds the live address, interface and port mappings while the container runs).
  `
  CREATE TABLE networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    driver TEXT NOT NULL,
    created TEXT NOT NULL,
    config TEXT NOT NULL              -- NetworkRecord JSON
  );
  CREATE TABLE endpoints (
    id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL REFERENCES networks(id),
    container_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    config TEXT NOT NULL,             -- EndpointConfig JSON
    state TEXT,                       -- EndpointState JSON while the container runs
    UNIQUE (network_id, container_id)
  );
  CREATE INDEX endpoints_by_container ON endpoints(container_id);
  `,
];
