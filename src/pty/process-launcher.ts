import { reconnect } from "../host/adopt.js";
import { HostConnection } from "../host/host-connection.js";
import { HostHandle } from "../host/host-handle.js";
import { HostSpawner } from "../host/spawn-host.js";
import { silentLogger, type Logger } from "../log.js";
import { groupAlive } from "../proc.js";
import type {
  Adopted,
  LaunchedProcess,
  LaunchRequest,
  ProcessLauncher,
} from "../session/launcher.js";
import { reapStaleProcesses } from "../session/reap.js";
import type { SessionRecord } from "../session/session.js";

/** Sessions' hosts in sessions of their own, outside systemd: they outlive a killed pool. */
export class PlainLauncher implements ProcessLauncher {
  readonly kind = "process";

  private readonly hosts = new HostSpawner();

  constructor(private readonly log: Logger = silentLogger) {}

  launch(request: LaunchRequest): LaunchedProcess {
    const host = this.hosts.take();
    return plainProcess(host.pid, host.start(request.host), request.stopTimeoutSec * 1000);
  }

  prepare(): void {
    this.hosts.prepare();
  }

  close(): void {
    this.hosts.close();
  }

  async adopt(
    records: SessionRecord[],
    socketOf: (id: string) => string,
    graceMs: number,
  ): Promise<Map<string, Adopted>> {
    const adopted = new Map<string, Adopted>();
    const others: SessionRecord[] = [];
    await Promise.all(
      records.map(async (record) => {
        const found = await reconnect(record, socketOf(record.id), this.log);
        if (found === null) others.push(record);
        else if ("connection" in found) {
          const { connection } = found;
          const launched = plainProcess(connection.hostPid, Promise.resolve(connection), graceMs);
          adopted.set(record.id, { launched, legacy: null });
        } else {
          const { hostPid, pid } = found.legacy;
          const launched = plainProcess(hostPid, new Promise(() => {}), graceMs, pid);
          adopted.set(record.id, { launched, legacy: found.legacy });
        }
      }),
    );
    await reapStaleProcesses(others, graceMs, this.log);
    return adopted;
  }
}

/** `legacyPid`: claude's pid under a host this pool cannot speak to, signalled directly. */
function plainProcess(
  hostPid: number,
  started: Promise<HostConnection>,
  graceMs: number,
  legacyPid: number | null = null,
): LaunchedProcess {
  const host = new HostHandle(hostPid, started);
  return {
    hostPid,
    unit: null,
    placed: Promise.resolve(),
    started,
    runUnplaced: () => {},
    abort: () => host.kill(),
    signal: (signal) => {
      if (legacyPid !== null) signalGroup(legacyPid, signal);
      else host.signal(signal);
    },
    release: async () => {
      const claudePid = host.claudePid ?? legacyPid;
      if (claudePid !== null) await endGroup(claudePid, graceMs);
      if (legacyPid !== null) host.kill();
      return null;
    },
    usage: async () => null,
  };
}

/**
 * What claude left in its process group (tools, MCP servers that ignore the hangup) gets SIGTERM,
 * then SIGKILL after the grace period, as systemd stops a scope.
 */
async function endGroup(group: number, graceMs: number): Promise<void> {
  const kill = (signal: NodeJS.Signals) => signalGroup(group, signal);
  if (!groupAlive(group)) return;
  kill("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(group)) {
    if (Date.now() >= deadline) {
      kill("SIGKILL");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // gone already
  }
}
