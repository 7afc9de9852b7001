/** The first fd systemd passes to a socket-activated service (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/**
 * The listening socket systemd passed to this process, for `server.listen({ fd })`, or null
 * when not socket-activated. Like sd_listen_fds(unset_environment=1), it removes LISTEN_FDS,
 * LISTEN_PID and LISTEN_FDNAMES in any case, so sessions started later do not see them. The fd
 * needs no FD_CLOEXEC here: Node sets it on inherited fds at startup.
 */
export function takeListenFd(
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
): number | null {
  const fds = Number(env.LISTEN_FDS);
  const forPid = Number(env.LISTEN_PID);
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  return forPid === pid && Number.isInteger(fds) && fds >= 1 ? LISTEN_FDS_START : null;
}
