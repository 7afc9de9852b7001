import { reconnect } from "../host/adopt.js";
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
  /**
   * Per session: the exit of its earlier hosts. The next one starts after it, so none of them is
   * left when it listens on the session's socket path.
   */
  private readonly hostsGone = new Map<string, Promise<void>>();

  constructor(private readonly log: Logger = silentLogger) {}

  launch(request: LaunchRequest): LaunchedProcess {
    const { sessionId } = request;
    const host = this.hosts.take();
    const previous = this.hostsGone.get(sessionId) ?? Promise.resolve();
    const started = previous.then(() => host.start(request.host));
    const handle = new HostHandle(host.pid, started, host);
    return this.track(sessionId, handle, request.stopTimeoutSec * 1000);
  }

  /** A run whose release counts as its session's host ending, once the host has gone. */
  private track(
    sessionId: string,
    handle: HostHandle,
    graceMs: number,
    legacyPid: number | null = null,
  ): LaunchedProcess {
    const launched = plainProcess(handle, graceMs, legacyPid);
    return {
      ...launched,
      release: () => {
        const done = launched.release();
        const previous = this.hostsGone.get(sessionId) ?? Promise.resolve();
        const gone = Promise.all([previous, handle.exited(hostExitMs)]).then(() => {});
        this.hostsGone.set(sessionId, gone);
        void gone.then(() => {
          if (this.hostsGone.get(sessionId) === gone) this.hostsGone.delete(sessionId);
        });
        return done;
      },
    };
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
          const handle = new HostHandle(connection.hostPid, Promise.resolve(connection));
          const launched = this.track(record.id, handle, graceMs);
          adopted.set(record.id, { launched, legacy: null });
        } else {
          const { hostPid, pid } = found.legacy;
          const handle = new HostHandle(hostPid, new Promise(() => {}));
          const launched = this.track(record.id, handle, graceMs, pid);
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
  host: HostHandle,
  graceMs: number,
  legacyPid: number | null = null,
): LaunchedProcess {
  return {
    hostPid: host.pid,
    unit: null,
    placed: Promise.resolve(),
    started: host.started,
    runUnplaced: () => {},
    abort: () => host.kill(),
    signal: (signal) => {
      if (legacyPid !== null) signalGroup(legacyPid, signal);
      else host.signal(signal);
    },
    release: async () => {
      if (legacyPid !== null) {
        await endGroup(legacyPid, graceMs);
        host.kill();
        return null;
      }
      await endHost(host, graceMs);
      return null;
    },
    usage: async () => null,
  };
}

/**
 * A host goes once the supervisor has taken claude's exit and its last screen; one that lingers
 * past this is killed.
 */
const hostExitMs = 10_000;

/** Ends a host outside systemd: what claude left in its group, and the host once it lingers. */
export async function endHost(host: HostHandle, graceMs: number): Promise<void> {
  const claudePid = host.claudePid;
  await Promise.all([
    claudePid === null ? null : endGroup(claudePid, graceMs),
    host.exited(hostExitMs),
  ]);
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
