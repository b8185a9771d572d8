// systemd socket activation (sd_listen_fds): `berthd -H fd://` serves on the socket(s) systemd
// opened for it (contrib/systemd/berthd.socket), as dockerd does with docker.socket.

const SD_LISTEN_FDS_START = 3;

/**
 * The file descriptors systemd passed to this process (LISTEN_PID/LISTEN_FDS), or none. The
 * variables are removed so that processes berthd spawns do not take the sockets for theirs.
 */
export function takeListenFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number[] {
  const forUs = Number(env.LISTEN_PID) === pid;
  const n = Number(env.LISTEN_FDS);
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (!forUs || !Number.isInteger(n) || n <= 0) return [];
  return Array.from({ length: n }, (_, i) => SD_LISTEN_FDS_START + i);
}

/** The fd a `fd://` or `fd://N` host means, among those passed; throws with dockerd's texts. */
export function pickListenFd(host: string, fds: readonly number[]): number {
  const spec = host.slice('fd://'.length);
  if (fds.length === 0) throw new Error('no sockets found via socket activation: make sure the service was started by systemd');
  if (spec === '') return fds[0];
  const fd = Number(spec);
  if (!Number.isInteger(fd) || !fds.includes(fd)) throw new Error(`too few socket activated files passed in by systemd: fd ${spec} not among ${fds.join(', ')}`);
  return fd;
}
