import type { PoolConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import { SystemdManager } from "./manager.js";
import { ScopeLauncher } from "./scope-launcher.js";

export interface SystemdSetup {
  /** Null when sessions run as plain children. */
  launcher: ScopeLauncher | null;
  /** Why there are no scopes, for the log and pool.status. */
  reason: string | null;
  /** The type of the job queued for the pool's own unit ("stop", "restart"), or null. */
  pendingJob(): Promise<string | null>;
  close(): void;
}

/** Thrown when the config says systemd "required" and no user manager answers. */
export class SystemdRequiredError extends Error {}

/**
 * Connects to the user manager as `config.systemd` says: "auto" falls back to plain children
 * (and says so once), "required" refuses to go on without it, "off" does not try.
 */
export async function setUpSystemd(config: PoolConfig, log: Logger): Promise<SystemdSetup> {
  const none = (reason: string): SystemdSetup => ({
    launcher: null,
    reason,
    pendingJob: async () => null,
    close: () => {},
  });
  if (config.systemd === "off") return none('systemd is "off" in the config');
  const connected = await SystemdManager.connect();
  if (connected.manager === null) {
    if (config.systemd === "required") {
      throw new SystemdRequiredError(
        `systemd is "required" in the config, but no user manager answers: ${connected.reason}`,
      );
    }
    log.warn(
      `no systemd user manager (${connected.reason}); sessions run without scopes or limits`,
    );
    return none(connected.reason);
  }
  const manager = connected.manager;
  const launcher = new ScopeLauncher(manager, log);
  log.info(`systemd ${manager.version}: each session runs in its own scope`);
  return {
    launcher,
    reason: null,
    pendingJob: () => manager.pendingJobOf(process.pid),
    close: () => manager.close(),
  };
}
