import type { Logger } from "../log.js";
import { isSameProcess } from "../proc.js";
import type { SessionRecord } from "../session/session.js";
import { HostConnection, HostVersionError } from "./host-connection.js";
import type { HostHello } from "./protocol.js";

/** A host found running: one this pool speaks to, or one of another protocol version. */
export type Found = { connection: HostConnection } | { legacy: HostHello };

/**
 * Reconnects to the host a previous pool left running for `record`, if it still runs (the same
 * process: pid and start time) and answers on its socket. null when there is nothing to adopt.
 */
export async function reconnect(
  record: SessionRecord,
  socketPath: string,
  log: Logger,
): Promise<Found | null> {
  const { hostPid, hostStart } = record;
  if (hostPid === null || hostStart === null || !isSameProcess(hostPid, hostStart)) return null;
  const which = `session ${record.id} (${record.settings.name})`;
  try {
    return { connection: await HostConnection.open(socketPath) };
  } catch (err) {
    if (err instanceof HostVersionError) {
      log.warn(`${which}: ${err.message}; it restarts under a new host at its next idle moment`);
      return { legacy: err.hello };
    }
    log.warn(`${which}: cannot adopt host ${hostPid}: no answer (${(err as Error).message})`);
    return null;
  }
}
