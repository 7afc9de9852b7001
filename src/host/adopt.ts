import type { Logger } from "../log.js";
import { isSameProcess } from "../proc.js";
import type { SessionRecord } from "../session/session.js";
import { HostConnection, HostVersionError } from "./host-connection.js";

/**
 * Reconnects to the host a previous pool left running for `record`, if it still runs (the same
 * process: pid and start time) and answers on its socket. null when there is nothing to adopt.
 */
export async function reconnect(
  record: SessionRecord,
  socketPath: string,
  log: Logger,
): Promise<HostConnection | null> {
  const { hostPid, hostStart } = record;
  if (hostPid === null || hostStart === null || !isSameProcess(hostPid, hostStart)) return null;
  try {
    return await HostConnection.open(socketPath);
  } catch (err) {
    const why =
      err instanceof HostVersionError ? err.message : `no answer (${(err as Error).message})`;
    log.warn(
      `session ${record.id} (${record.settings.name}): cannot adopt host ${hostPid}: ${why}`,
    );
    return null;
  }
}
